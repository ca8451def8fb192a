//! The kinds of departmental deliveries compared with the caseload (核对): their identity, code
//! and name. Their formats (columns, types, rejection policy) are the verification engine's
//! (`jiuzhu_verify::FeedKindSchema`).

use serde::{Deserialize, Serialize};

/// One kind of departmental delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    CivilDeaths,
    Vehicles,
    Deposits,
    RealEstate,
    Business,
    SocialInsurance,
    MedicalClaims,
    Pensions,
    HousingFund,
    Imprisonment,
    HukouMoves,
}

impl FeedKind {
    pub const ALL: &'static [FeedKind] = &[
        FeedKind::CivilDeaths,
        FeedKind::Vehicles,
        FeedKind::Deposits,
        FeedKind::RealEstate,
        FeedKind::Business,
        FeedKind::SocialInsurance,
        FeedKind::MedicalClaims,
        FeedKind::Pensions,
        FeedKind::HousingFund,
        FeedKind::Imprisonment,
        FeedKind::HukouMoves,
    ];
    /// The seven kinds of the monthly-comparison benchmark.
    pub const BENCH: &'static [FeedKind] = &[
        FeedKind::CivilDeaths,
        FeedKind::Vehicles,
        FeedKind::Deposits,
        FeedKind::RealEstate,
        FeedKind::Business,
        FeedKind::SocialInsurance,
        FeedKind::MedicalClaims,
    ];

    /// The code, which is also the file stem of a delivery (`vehicles.csv`).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::CivilDeaths => "civil_deaths",
            FeedKind::Vehicles => "vehicles",
            FeedKind::Deposits => "deposits",
            FeedKind::RealEstate => "real_estate",
            FeedKind::Business => "business",
            FeedKind::SocialInsurance => "social_insurance",
            FeedKind::MedicalClaims => "medical_claims",
            FeedKind::Pensions => "pensions",
            FeedKind::HousingFund => "housing_fund",
            FeedKind::Imprisonment => "imprisonment",
            FeedKind::HukouMoves => "hukou_moves",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FeedKind::CivilDeaths => "死亡登记",
            FeedKind::Vehicles => "机动车登记",
            FeedKind::Deposits => "存款及金融资产",
            FeedKind::RealEstate => "不动产登记",
            FeedKind::Business => "市场主体登记",
            FeedKind::SocialInsurance => "社会保险缴费",
            FeedKind::MedicalClaims => "医疗费用结算",
            FeedKind::Pensions => "养老金发放",
            FeedKind::HousingFund => "住房公积金",
            FeedKind::Imprisonment => "服刑人员",
            FeedKind::HukouMoves => "户籍迁移",
        }
    }

    /// The values are bank or health data (balances of deposits, securities and insurance;
    /// medical costs): a warning's evidence shows them masked, and only an audited reveal shows
    /// them (docs/roles.md, "Sensitive data").
    pub fn values_are_sensitive(self) -> bool {
        matches!(self, FeedKind::Deposits | FeedKind::MedicalClaims)
    }

    /// By its code or its Chinese name.
    pub fn parse(s: &str) -> Option<FeedKind> {
        let s = s.trim();
        FeedKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s || k.label_zh() == s)
    }
}

/// How a delivery's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// UTF-8 CSV (with or without BOM): read as is.
    Csv,
    /// CSV that is not UTF-8: decoded as GB18030 (a superset of GBK).
    GbkCsv,
    /// An Office Open XML workbook (zip): the first sheet.
    Xlsx,
}

impl FeedFormat {
    /// The kept file's suffix: the format is known again from the content key alone, so a run
    /// re-reading a kept UTF-8 file pays no detection pass.
    pub fn suffix(self) -> &'static str {
        match self {
            FeedFormat::Csv => "csv",
            FeedFormat::GbkCsv => "gbk.csv",
            FeedFormat::Xlsx => "xlsx",
        }
    }
    pub fn of_content_key(key: &str) -> FeedFormat {
        if key.ends_with(".xlsx") {
            FeedFormat::Xlsx
        } else if key.ends_with(".gbk.csv") {
            FeedFormat::GbkCsv
        } else {
            FeedFormat::Csv
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            FeedFormat::Csv => "CSV(UTF-8)",
            FeedFormat::GbkCsv => "CSV(GBK)",
            FeedFormat::Xlsx => "Excel(xlsx)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_serde_agree() {
        for k in FeedKind::ALL {
            assert_eq!(FeedKind::parse(k.as_str()), Some(*k));
            assert_eq!(FeedKind::parse(k.label_zh()), Some(*k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().into())
            );
        }
        assert_eq!(FeedKind::parse("cars"), None);
    }
}
