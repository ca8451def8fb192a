//! Feed kinds as data: each department's delivery format (columns, types, labels) and the
//! source's rejection policy. Everything the parser and `docs/feeds.md` need is in these tables.

use serde::{Deserialize, Serialize};

/// The most columns any schema has; the parser keeps one fixed-size value array per row.
pub const MAX_COLUMNS: usize = 8;

pub use jiuzhu_domain::FeedKind;

/// The format of each kind of delivery.
pub trait FeedKindSchema {
    fn schema(self) -> &'static FeedSchema;
    /// The Chinese label of a code value of one of the kind's coded columns (vehicle types,
    /// business roles, …): what people read instead of `motorcycle` or `legal_rep`.
    fn code_label_zh(self, code: &str) -> Option<&'static str>;
}

impl FeedKindSchema for FeedKind {
    fn code_label_zh(self, code: &str) -> Option<&'static str> {
        self.schema().columns.iter().find_map(|c| match c.ty {
            ColumnType::Code(codes) => codes.iter().find(|(k, _)| *k == code).map(|(_, l)| *l),
            _ => None,
        })
    }

    fn schema(self) -> &'static FeedSchema {
        match self {
            FeedKind::CivilDeaths => &CIVIL_DEATHS,
            FeedKind::Vehicles => &VEHICLES,
            FeedKind::Deposits => &DEPOSITS,
            FeedKind::RealEstate => &REAL_ESTATE,
            FeedKind::Business => &BUSINESS,
            FeedKind::SocialInsurance => &SOCIAL_INSURANCE,
            FeedKind::MedicalClaims => &MEDICAL_CLAIMS,
            FeedKind::Pensions => &PENSIONS,
            FeedKind::HousingFund => &HOUSING_FUND,
            FeedKind::Imprisonment => &IMPRISONMENT,
            FeedKind::HukouMoves => &HUKOU_MOVES,
        }
    }
}

/// A column's type; the parser turns each into one `i64` (see [`crate::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// 18-character citizen identity number (GB 11643): format, birth date and check digit.
    IdNumber,
    /// `YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYYMMDD`); value `yyyymmdd`.
    Date,
    /// `YYYY-MM` (also `YYYYMM`); value `yyyymm`.
    Month,
    /// Yuan with at most two decimals; value in fen.
    Money,
    /// A non-negative quantity with at most two decimals (area in m²); value in hundredths.
    Decimal2,
    /// One of a code table (the code or its Chinese label); value is the index in the table.
    Code(&'static [(&'static str, &'static str)]),
    /// Free text (plate numbers, certificate numbers, institution codes); not interpreted.
    Text,
}

impl ColumnType {
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::IdNumber => "id_number",
            ColumnType::Date => "date",
            ColumnType::Month => "month",
            ColumnType::Money => "money",
            ColumnType::Decimal2 => "decimal(2)",
            ColumnType::Code(_) => "code",
            ColumnType::Text => "text",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header name in the delivery file.
    pub name: &'static str,
    pub ty: ColumnType,
    pub required: bool,
    /// Chinese label, as shown in rejected-row reports.
    pub label_zh: &'static str,
    /// The data element this column carries, named after MZ/T 073-2024 where it has one.
    pub element_zh: &'static str,
}

/// What a source's bad rows do to its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum RejectionPolicy {
    /// Keep the good rows; report the bad ones.
    KeepGoodRows,
    /// Refuse the whole delivery when it has more than `max_bad_rows` bad rows (0: any bad row
    /// refuses it); otherwise keep the good rows.
    RefuseAbove { max_bad_rows: u64 },
}

#[derive(Debug)]
pub struct FeedSchema {
    pub kind: FeedKind,
    /// The department that usually delivers it.
    pub source_zh: &'static str,
    pub columns: &'static [Column],
    pub rejection: RejectionPolicy,
}

impl FeedSchema {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    required: bool,
    label_zh: &'static str,
    element_zh: &'static str,
) -> Column {
    Column {
        name,
        ty,
        required,
        label_zh,
        element_zh,
    }
}

const ID: Column = col(
    "id_number",
    ColumnType::IdNumber,
    true,
    "身份证号码",
    "公民身份号码",
);

pub const VEHICLE_TYPES: &[(&str, &str)] = &[
    ("car", "小型汽车"),
    ("truck", "货车"),
    ("motorcycle", "摩托车"),
    ("disabled_mobility", "残疾人专用车"),
    ("other", "其他"),
];
pub const ACCOUNT_TYPES: &[(&str, &str)] = &[
    ("savings", "活期储蓄"),
    ("time", "定期存款"),
    ("wealth", "理财产品"),
    ("securities", "证券"),
    ("insurance", "商业保险"),
];
pub const PROPERTY_USAGES: &[(&str, &str)] = &[("residential", "住宅"), ("commercial", "商业")];
pub const BUSINESS_ROLES: &[(&str, &str)] = &[("legal_rep", "法定代表人"), ("shareholder", "股东")];
pub const BUSINESS_STATUSES: &[(&str, &str)] = &[
    ("active", "存续"),
    ("revoked", "吊销"),
    ("cancelled", "注销"),
];
pub const PENSION_KINDS: &[(&str, &str)] = &[
    ("employee", "城镇职工基本养老保险"),
    ("resident", "城乡居民基本养老保险"),
    ("public", "机关事业单位养老保险"),
];
pub const MOVE_TYPES: &[(&str, &str)] = &[("in", "迁入"), ("out", "迁出"), ("cancel", "注销户口")];

pub static CIVIL_DEATHS: FeedSchema = FeedSchema {
    kind: FeedKind::CivilDeaths,
    source_zh: "民政(殡葬)、公安、卫健",
    columns: &[
        ID,
        col("death_date", ColumnType::Date, true, "死亡日期", "死亡日期"),
    ],
    // A death stops benefits: a delivery with any bad row goes back to the department.
    rejection: RejectionPolicy::RefuseAbove { max_bad_rows: 0 },
};

pub static VEHICLES: FeedSchema = FeedSchema {
    kind: FeedKind::Vehicles,
    source_zh: "公安交警",
    columns: &[
        ID,
        col(
            "plate_number",
            ColumnType::Text,
            true,
            "号牌号码",
            "机动车号牌号码",
        ),
        col(
            "vehicle_type",
            ColumnType::Code(VEHICLE_TYPES),
            true,
            "车辆类型",
            "机动车类型",
        ),
        col(
            "registered_on",
            ColumnType::Date,
            true,
            "登记日期",
            "初次登记日期",
        ),
        col(
            "purchase_price",
            ColumnType::Money,
            false,
            "购置价格",
            "车辆购置价格",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static DEPOSITS: FeedSchema = FeedSchema {
    kind: FeedKind::Deposits,
    source_zh: "银行、保险、证券机构",
    columns: &[
        ID,
        col(
            "institution_code",
            ColumnType::Text,
            true,
            "机构代码",
            "金融机构代码",
        ),
        col(
            "account_type",
            ColumnType::Code(ACCOUNT_TYPES),
            true,
            "账户类型",
            "金融资产类别",
        ),
        col("balance", ColumnType::Money, true, "余额", "金融资产余额"),
        col("as_of", ColumnType::Date, true, "余额日期", "数据截止日期"),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static REAL_ESTATE: FeedSchema = FeedSchema {
    kind: FeedKind::RealEstate,
    source_zh: "自然资源(不动产登记中心)",
    columns: &[
        ID,
        col(
            "certificate_no",
            ColumnType::Text,
            true,
            "不动产权证号",
            "不动产权证书号",
        ),
        col(
            "usage",
            ColumnType::Code(PROPERTY_USAGES),
            true,
            "用途",
            "房屋规划用途",
        ),
        col(
            "area_sqm",
            ColumnType::Decimal2,
            false,
            "建筑面积(平方米)",
            "建筑面积",
        ),
        col(
            "registered_on",
            ColumnType::Date,
            true,
            "登记日期",
            "登记时间",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static BUSINESS: FeedSchema = FeedSchema {
    kind: FeedKind::Business,
    source_zh: "市场监管",
    columns: &[
        ID,
        col(
            "credit_code",
            ColumnType::Text,
            true,
            "统一社会信用代码",
            "统一社会信用代码",
        ),
        col(
            "role",
            ColumnType::Code(BUSINESS_ROLES),
            true,
            "任职或出资类型",
            "人员类型",
        ),
        col(
            "registered_capital",
            ColumnType::Money,
            false,
            "注册资本",
            "注册资本",
        ),
        col(
            "status",
            ColumnType::Code(BUSINESS_STATUSES),
            true,
            "登记状态",
            "经营状态",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static SOCIAL_INSURANCE: FeedSchema = FeedSchema {
    kind: FeedKind::SocialInsurance,
    source_zh: "人力资源社会保障",
    columns: &[
        ID,
        col(
            "employer_code",
            ColumnType::Text,
            true,
            "单位编号",
            "参保单位编号",
        ),
        col("month", ColumnType::Month, true, "缴费月份", "费款所属期"),
        col(
            "contribution_wage",
            ColumnType::Money,
            true,
            "缴费工资",
            "缴费基数",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static MEDICAL_CLAIMS: FeedSchema = FeedSchema {
    kind: FeedKind::MedicalClaims,
    source_zh: "医疗保障",
    columns: &[
        ID,
        col(
            "settlement_date",
            ColumnType::Date,
            true,
            "结算日期",
            "结算日期",
        ),
        col(
            "total_cost",
            ColumnType::Money,
            true,
            "医疗总费用",
            "医疗费用总额",
        ),
        col(
            "out_of_pocket",
            ColumnType::Money,
            true,
            "个人自付",
            "个人负担金额",
        ),
        // Shown with an outreach lead about someone the registry does not know.
        col("name", ColumnType::Text, false, "姓名", "姓名"),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static PENSIONS: FeedSchema = FeedSchema {
    kind: FeedKind::Pensions,
    source_zh: "人力资源社会保障",
    columns: &[
        ID,
        col(
            "pension_kind",
            ColumnType::Code(PENSION_KINDS),
            true,
            "养老保险类别",
            "险种类型",
        ),
        col("month", ColumnType::Month, true, "发放月份", "待遇所属期"),
        col(
            "amount",
            ColumnType::Money,
            true,
            "发放金额",
            "养老金月发放金额",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static HOUSING_FUND: FeedSchema = FeedSchema {
    kind: FeedKind::HousingFund,
    source_zh: "住房公积金管理中心",
    columns: &[
        ID,
        col(
            "employer_code",
            ColumnType::Text,
            true,
            "单位账号",
            "缴存单位账号",
        ),
        col("month", ColumnType::Month, true, "缴存月份", "缴存年月"),
        col(
            "monthly_deposit",
            ColumnType::Money,
            true,
            "月缴存额",
            "月缴存额",
        ),
        col(
            "balance",
            ColumnType::Money,
            false,
            "账户余额",
            "个人账户余额",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

pub static IMPRISONMENT: FeedSchema = FeedSchema {
    kind: FeedKind::Imprisonment,
    source_zh: "司法行政(监狱管理)",
    columns: &[
        ID,
        col(
            "institution_code",
            ColumnType::Text,
            true,
            "羁押场所代码",
            "监所代码",
        ),
        col("start_date", ColumnType::Date, true, "入监日期", "收监日期"),
        col(
            "end_date",
            ColumnType::Date,
            false,
            "释放日期",
            "刑满释放日期",
        ),
    ],
    rejection: RejectionPolicy::RefuseAbove { max_bad_rows: 0 },
};

pub static HUKOU_MOVES: FeedSchema = FeedSchema {
    kind: FeedKind::HukouMoves,
    source_zh: "公安(户政)",
    columns: &[
        ID,
        col(
            "move_type",
            ColumnType::Code(MOVE_TYPES),
            true,
            "变动类型",
            "户口变动类别",
        ),
        col(
            "move_date",
            ColumnType::Date,
            true,
            "变动日期",
            "户口变动日期",
        ),
        col(
            "from_division",
            ColumnType::Text,
            false,
            "迁出地",
            "迁出地行政区划代码",
        ),
        col(
            "to_division",
            ColumnType::Text,
            false,
            "迁入地",
            "迁入地行政区划代码",
        ),
    ],
    rejection: RejectionPolicy::KeepGoodRows,
};

/// Column positions used by the rules (schema order, checked by a unit test).
pub(crate) mod cols {
    pub const DEATH_DATE: usize = 1;
    pub const VEHICLE_TYPE: usize = 2;
    pub const VEHICLE_REGISTERED: usize = 3;
    pub const DEPOSIT_BALANCE: usize = 3;
    pub const RE_USAGE: usize = 2;
    pub const RE_REGISTERED: usize = 4;
    pub const BIZ_ROLE: usize = 2;
    pub const BIZ_STATUS: usize = 4;
    pub const SI_MONTH: usize = 2;
    pub const SI_WAGE: usize = 3;
    pub const MED_DATE: usize = 1;
    pub const MED_OOP: usize = 3;
    pub const PEN_MONTH: usize = 2;
    pub const PEN_AMOUNT: usize = 3;
    pub const HF_MONTH: usize = 2;
    pub const HF_DEPOSIT: usize = 3;
    pub const IMP_START: usize = 2;
    pub const IMP_END: usize = 3;
    pub const MOVE_TYPE: usize = 1;
    pub const MOVE_DATE: usize = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_columns_match_schemas() {
        let at = |k: FeedKind, i: usize| k.schema().columns[i].name;
        assert_eq!(at(FeedKind::CivilDeaths, cols::DEATH_DATE), "death_date");
        assert_eq!(at(FeedKind::Vehicles, cols::VEHICLE_TYPE), "vehicle_type");
        assert_eq!(
            at(FeedKind::Vehicles, cols::VEHICLE_REGISTERED),
            "registered_on"
        );
        assert_eq!(at(FeedKind::Deposits, cols::DEPOSIT_BALANCE), "balance");
        assert_eq!(at(FeedKind::RealEstate, cols::RE_USAGE), "usage");
        assert_eq!(
            at(FeedKind::RealEstate, cols::RE_REGISTERED),
            "registered_on"
        );
        assert_eq!(at(FeedKind::Business, cols::BIZ_ROLE), "role");
        assert_eq!(at(FeedKind::Business, cols::BIZ_STATUS), "status");
        assert_eq!(at(FeedKind::SocialInsurance, cols::SI_MONTH), "month");
        assert_eq!(
            at(FeedKind::SocialInsurance, cols::SI_WAGE),
            "contribution_wage"
        );
        assert_eq!(
            at(FeedKind::MedicalClaims, cols::MED_DATE),
            "settlement_date"
        );
        assert_eq!(at(FeedKind::MedicalClaims, cols::MED_OOP), "out_of_pocket");
        assert_eq!(at(FeedKind::Pensions, cols::PEN_MONTH), "month");
        assert_eq!(at(FeedKind::Pensions, cols::PEN_AMOUNT), "amount");
        assert_eq!(at(FeedKind::HousingFund, cols::HF_MONTH), "month");
        assert_eq!(
            at(FeedKind::HousingFund, cols::HF_DEPOSIT),
            "monthly_deposit"
        );
        assert_eq!(at(FeedKind::Imprisonment, cols::IMP_START), "start_date");
        assert_eq!(at(FeedKind::Imprisonment, cols::IMP_END), "end_date");
        assert_eq!(at(FeedKind::HukouMoves, cols::MOVE_TYPE), "move_type");
        assert_eq!(at(FeedKind::HukouMoves, cols::MOVE_DATE), "move_date");
        for k in FeedKind::ALL {
            assert!(k.schema().columns.len() <= MAX_COLUMNS);
            assert_eq!(k.schema().kind, *k);
            assert_eq!(k.schema().columns[0].ty, ColumnType::IdNumber);
        }
    }
}
