//! Departments' deliveries for the demo county (docs/feeds.md formats), so the verification
//! screens have something to show on a fresh demo: a handful of rows per kind about real demo
//! persons, some crossing a warning threshold and some not, a few non-recipients with high
//! medical costs (outreach leads) and two bad rows in the deposits file (the rejected-row report).
//! Pure and deterministic: the same demo county and month give the same files.
//!
//! Amounts keep a wide margin from the thresholds (policy values, national demo values: deposit
//! 30,000 per member, medical 4,000, outreach 10,000, Weihai urban standard 787) so a moderate
//! change of a policy value does not change which rows warn.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::id_number::check_char;

use crate::demo::DemoData;

/// The township whose reviewer (reviewer_huancuilou) gets the demo warnings.
pub const WARNING_TOWNSHIP: &str = "371002001";
/// Deaths go to another township: the browser test of the inbox looks for its own DEATH warning
/// in 371002001.
pub const DEATH_TOWNSHIP: &str = "371002002";

/// One delivery: feed kind code, the registered source's code ([`sources`]), the CSV text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFeed {
    pub kind: &'static str,
    pub source: &'static str,
    pub csv: String,
}

/// A registered data provider of the demo county, with the demo accounts that deliver for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSource {
    pub kind: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    /// The demo accounts (officers or systems) that deliver for it.
    pub accounts: &'static [&'static str],
}

/// The demo county's registered sources: one per kind delivered, and a second bank and a
/// second insurer (大病保险承办机构) that deliver their own files.
pub fn sources() -> Vec<DemoSource> {
    let s = |kind, code, name, accounts: &'static [&'static str]| DemoSource {
        kind,
        code,
        name,
        accounts,
    };
    vec![
        s("civil_deaths", "HC-BZ", "威海市环翠区民政局殡葬管理所", &[]),
        s(
            "vehicles",
            "WH-JJ",
            "威海市公安局交通警察支队车辆管理所",
            &["officer_gongan"],
        ),
        s(
            "deposits",
            "WHCCB-HC",
            "威海市商业银行环翠支行",
            &["officer_bank"],
        ),
        s("deposits", "ICBC-HC", "中国工商银行威海环翠支行", &[]),
        s(
            "real_estate",
            "WH-BDC",
            "威海市不动产登记中心环翠分中心",
            &[],
        ),
        s("business", "HC-SCJG", "威海市环翠区市场监督管理局", &[]),
        s(
            "social_insurance",
            "HC-SB",
            "威海市环翠区社会保险事业中心",
            &[],
        ),
        s(
            "medical_claims",
            "HC-YB",
            "威海市医疗保障局环翠分局",
            &["officer_yibao", "yibao_system"],
        ),
        s(
            "medical_claims",
            "PICC-WH",
            "中国人民财产保险威海市分公司(大病保险)",
            &[],
        ),
        s(
            "pensions",
            "HC-YL",
            "威海市环翠区社会保险事业中心(养老金发放)",
            &[],
        ),
        s("housing_fund", "WH-GJJ", "威海市住房公积金管理中心", &[]),
        s("imprisonment", "WH-SF", "威海市司法局", &[]),
        s(
            "hukou_moves",
            "WH-HZ",
            "威海市公安局户政管理支队",
            &["officer_gongan"],
        ),
    ]
}

/// The code of the demo county's first registered source of `kind`.
pub fn source_of(kind: &str) -> Option<&'static str> {
    sources()
        .into_iter()
        .find(|s| s.kind == kind)
        .map(|s| s.code)
}

/// The seven deliveries, all describing `data_date` (the last day of the compared month). The
/// rows that warn are about `recipients` (households by their `source_ref`): a month's
/// comparison covers only households in force.
pub fn generate(
    demo: &DemoData,
    recipients: &HashSet<String>,
    data_date: NaiveDate,
) -> Vec<DemoFeed> {
    // Receiving households of a township with their members' identity numbers (head first),
    // taken from the end of the list: the demo cases start from the first households.
    let households_of = |township: &str| -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for (i, h) in demo.batch.households.iter().enumerate() {
            if h.division.as_str().starts_with(township) && recipients.contains(&h.source_ref) {
                let ids: Vec<String> = demo
                    .batch
                    .members
                    .iter()
                    .filter(|m| m.household == i)
                    .map(|m| m.id_number.as_str().to_string())
                    .collect();
                if !ids.is_empty() {
                    out.push(ids);
                }
            }
        }
        out.reverse();
        out
    };
    let h = households_of(WARNING_TOWNSHIP);
    let dead = households_of(DEATH_TOWNSHIP);
    let members = |i: usize| h[i].len() as i64;
    let head = |i: usize| h[i][0].as_str();
    let last = |i: usize| h[i][h[i].len() - 1].as_str();

    let known: HashSet<&str> = demo
        .batch
        .members
        .iter()
        .map(|m| m.id_number.as_str())
        .collect();
    let mut outsiders = Vec::new();
    let mut seq = 0u32;
    while outsiders.len() < 5 {
        let body = format!("371002{}{:03}", 19580000 + 10101 + seq * 100, 101 + seq);
        seq += 1;
        let Ok(bytes) = <[u8; 17]>::try_from(body.as_bytes()) else {
            continue;
        };
        let full = format!("{body}{}", check_char(&bytes));
        if !known.contains(full.as_str()) {
            outsiders.push(full);
        }
    }
    // A number whose check digit is wrong: a bad row.
    let bad_id = {
        let good = &outsiders[4];
        let c = if good.ends_with('0') { '1' } else { '0' };
        format!("{}{c}", &good[..17])
    };

    let d = data_date;
    let day = |n: u32| {
        NaiveDate::from_ymd_opt(d.year(), d.month(), n)
            .unwrap_or(d)
            .to_string()
    };
    let month = format!("{:04}-{:02}", d.year(), d.month());
    let mut feeds = Vec::new();

    // Deaths: two recipients (other township) and one non-recipient.
    feeds.push(DemoFeed {
        kind: "civil_deaths",
        source: "HC-BZ",
        csv: format!(
            "身份证号码,死亡日期\n{},{}\n{},{}\n{},{}\n",
            dead[0][0],
            day(9),
            dead[1][0],
            day(21),
            outsiders[0],
            day(3)
        ),
    });
    // Vehicles: a car and a motorcycle warn; a vehicle for the disabled does not.
    feeds.push(DemoFeed {
        kind: "vehicles",
        source: "WH-JJ",
        csv: format!(
            "身份证号码,号牌号码,车辆类型,登记日期,购置价格\n\
             {},鲁K·D3K21,car,2025-06-18,86800.00\n\
             {},鲁K·2M719,disabled_mobility,2024-03-02,12500.00\n\
             {},鲁K·A0953,motorcycle,2026-02-11,7600.00\n\
             {},鲁K·F8827,car,2023-09-30,152000.00\n",
            head(0),
            head(1),
            last(2),
            outsiders[1]
        ),
    });
    // Deposits: two households above the limit (one by two accounts), one below; two bad rows.
    feeds.push(DemoFeed {
        kind: "deposits",
        source: "WHCCB-HC",
        csv: format!(
            "身份证号码,机构代码,账户类型,余额,余额日期\n\
             {},C1371000001,time,{}.00,{d}\n\
             {},C1371000001,savings,{}.50,{d}\n\
             {},C1371000002,wealth,{}.00,{d}\n\
             {},C1371000001,savings,5230.17,{d}\n\
             {},C1371000001,savings,100.005,{d}\n\
             {bad_id},C1371000002,time,20000.00,{d}\n",
            head(3),
            40_000 * members(3),
            head(4),
            20_000 * members(4),
            last(4),
            20_000 * members(4),
            head(5),
            head(6),
        ),
    });
    // Real estate: two dwellings, and a shop, warn; one dwelling does not.
    feeds.push(DemoFeed {
        kind: "real_estate",
        source: "WH-BDC",
        csv: format!(
            "身份证号码,不动产权证号,用途,建筑面积(平方米),登记日期\n\
             {},鲁(2019)威海市不动产权第0031527号,residential,68.40,2019-05-20\n\
             {},鲁(2024)威海市不动产权第0117306号,residential,92.15,2024-08-07\n\
             {},鲁(2016)威海市不动产权第0008841号,residential,54.00,2016-03-14\n\
             {},鲁(2022)威海市不动产权第0075590号,commercial,36.80,2022-11-02\n",
            head(6),
            last(6),
            head(7),
            head(8)
        ),
    });
    // Business: an active legal representative warns; a cancelled firm's shareholder does not.
    feeds.push(DemoFeed {
        kind: "business",
        source: "HC-SCJG",
        csv: format!(
            "身份证号码,统一社会信用代码,任职或出资类型,注册资本,登记状态\n\
             {},91371002MA3C8K2P1X,legal_rep,500000.00,active\n\
             {},91371002MA3N2Q7L5R,shareholder,100000.00,cancelled\n",
            head(9),
            head(10)
        ),
    });
    // Wages of the month: one household at 2,000 per member (above any standard), one low wage.
    feeds.push(DemoFeed {
        kind: "social_insurance",
        source: "HC-SB",
        csv: format!(
            "身份证号码,单位编号,缴费月份,缴费工资\n\
             {},37100200381,{month},{}.00\n\
             {},37100200417,{month},450.00\n",
            head(11),
            2_000 * members(11),
            head(12)
        ),
    });
    // Medical: one recipient above the low-income line, one below; two non-recipients above the
    // ordinary line (leads) and one below it.
    // The insurer's file names each person (what an outreach lead shows of someone the
    // registry does not know).
    let name_of = |id: &str| {
        demo.batch
            .members
            .iter()
            .find(|m| m.id_number.as_str() == id)
            .map_or_else(String::new, |m| m.name.clone())
    };
    feeds.push(DemoFeed {
        kind: "medical_claims",
        source: "HC-YB",
        csv: format!(
            "身份证号码,姓名,结算日期,医疗总费用,个人自付\n\
             {},{},{},21860.40,6530.20\n\
             {},{},{},3120.00,1180.00\n\
             {},邹立群,{},58210.00,23400.50\n\
             {},宫秀芝,{},41300.00,15200.00\n\
             {},孙德胜,{},18000.00,8000.00\n",
            head(13),
            name_of(head(13)),
            day(15),
            head(14),
            name_of(head(14)),
            day(8),
            outsiders[2],
            day(12),
            outsiders[3],
            day(26),
            outsiders[1],
            day(4)
        ),
    });
    feeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_county_and_day_give_the_same_files() {
        let demo = crate::demo::generate(20261123);
        let day = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let all: HashSet<String> = demo
            .batch
            .households
            .iter()
            .map(|h| h.source_ref.clone())
            .collect();
        let a = generate(&demo, &all, day);
        assert_eq!(a, generate(&demo, &all, day));
        assert_eq!(a.len(), 7);
        let deposits = a.iter().find(|f| f.kind == "deposits").unwrap();
        assert_eq!(deposits.csv.lines().count(), 7);
        assert!(deposits.csv.contains("100.005"));
    }
}
