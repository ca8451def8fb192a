//! The synthetic demo county: 威海市环翠区 (371002) with its streets and towns, communities,
//! villages and grids, about 5,000 assistance households with plausible members and facts, and one
//! staff account of every role. Deterministic: the same seed gives the same county.
//!
//! Place names of the townships are those of 环翠区; community and village names are plausible
//! but invented. Every person is fictitious; identity numbers are valid GB 11643 numbers that were
//! generated, not taken from anyone.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember};
use jiuzhu_domain::economics::{TekunState, TekunSupporter};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{
    Area, Department, Disability, DisabilityKind, DivisionCode, EducationStage, Employment,
    IdNumber, PersonFacts, Relation, Role, SelfCareAssessment, Sex, WorkAbility,
};
use jiuzhu_domain::{HouseholdAssets, HouseholdEconomics, MemberEconomics, Money, TekunFacts};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Number of households generated.
pub const HOUSEHOLDS: usize = 5000;

/// The county the demo builds.
pub const COUNTY_CODE: &str = "371002";

/// The date the demo facts and memberships are valid from, and the date ages refer to.
pub fn valid_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
}

/// A staff account of the demo county, with its known password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    pub division: DivisionCode,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoData {
    /// Province, city, county, townships, villages and grids, parents before children.
    pub divisions: Vec<(DivisionCode, String)>,
    pub batch: CaseloadBatch,
    pub users: Vec<DemoUser>,
    /// An economic record for every household (valid from [`valid_from`]).
    pub economics: Vec<DemoEconomics>,
}

/// The economics of one demo household: the household by its `source_ref`, its members by
/// identity number (`economics.members[i]` is `id_numbers[i]`'s; person ids are 0 until stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEconomics {
    pub household_ref: String,
    pub id_numbers: Vec<IdNumber>,
    pub economics: HouseholdEconomics,
}

/// (name, is a street (街道, urban) rather than a town (镇, rural), villages or communities).
const TOWNSHIPS: &[(&str, bool, &[&str])] = &[
    (
        "环翠楼街道",
        true,
        &[
            "新威路社区",
            "西门外社区",
            "北门外社区",
            "海港社区",
            "统一路社区",
            "环山路社区",
            "古寨社区",
            "塔山社区",
            "戚家庄社区",
            "东城社区",
        ],
    ),
    (
        "鲸园街道",
        true,
        &[
            "鲸园社区",
            "刘公岛路社区",
            "海埠社区",
            "东山社区",
            "柳营社区",
            "菊花顶社区",
            "光明路社区",
            "昆明路社区",
            "南山社区",
        ],
    ),
    (
        "竹岛街道",
        true,
        &[
            "竹岛社区",
            "海滨社区",
            "青岛路社区",
            "文化路社区",
            "钦村社区",
            "长峰社区",
            "华夏社区",
            "新都社区",
            "南竹岛社区",
            "杨家滩社区",
            "祥和社区",
        ],
    ),
    (
        "孙家疃街道",
        true,
        &[
            "孙家疃社区",
            "合庆社区",
            "小石岛社区",
            "金海湾社区",
            "葡萄滩社区",
            "远遥社区",
            "杏花社区",
            "海水浴场社区",
        ],
    ),
    (
        "田和街道",
        true,
        &[
            "田村社区",
            "和平社区",
            "后峰西社区",
            "新都花园社区",
            "北山社区",
            "田和社区",
            "庙山社区",
            "凤林社区",
            "公园路社区",
        ],
    ),
    (
        "皇冠街道",
        true,
        &[
            "皇冠社区",
            "九华社区",
            "北竹岛社区",
            "新世纪社区",
            "锦华社区",
            "望岛社区",
            "火炬路社区",
            "沈阳路社区",
            "华夏路社区",
        ],
    ),
    (
        "怡园街道",
        true,
        &[
            "怡园社区",
            "塔山中路社区",
            "戚谷疃社区",
            "嵩山社区",
            "怡海社区",
            "温泉路社区",
            "青岛北路社区",
            "古陌社区",
            "蒿泊社区",
            "望海社区",
        ],
    ),
    (
        "张村镇",
        false,
        &[
            "王家疃村",
            "张村",
            "姜家疃村",
            "沟北村",
            "北山头村",
            "南曲格庄村",
            "东鲍村",
            "西鲍村",
            "泊于村",
            "庙后村",
            "双岛村",
            "冢子村",
        ],
    ),
    (
        "羊亭镇",
        false,
        &[
            "羊亭村",
            "港头村",
            "孙家滩村",
            "柳林村",
            "宋家洼村",
            "小孙家村",
            "牛角湾村",
            "苗家夼村",
            "河东村",
            "西石岭村",
        ],
    ),
    (
        "温泉镇",
        false,
        &[
            "温泉汤村",
            "前岛村",
            "寨子村",
            "后岛村",
            "石家河村",
            "南江疃村",
            "北江疃村",
            "卧龙村",
            "蒲湾村",
            "西于家夼村",
        ],
    ),
    (
        "桥头镇",
        false,
        &[
            "桥头村",
            "小落村",
            "大落村",
            "峒岭村",
            "路家村",
            "泊子村",
            "北曲家村",
            "东楚岩村",
            "西楚岩村",
            "林家村",
            "八家疃村",
            "龙山前村",
            "高家庄村",
            "邢家疃村",
        ],
    ),
];

const GRID_NAMES: [&str; 3] = ["第一网格", "第二网格", "第三网格"];

/// Common surnames of the Jiaodong peninsula, repeated by rough frequency.
const SURNAMES: &[&str] = &[
    "王", "王", "王", "王", "张", "张", "张", "李", "李", "李", "刘", "刘", "刘", "孙", "孙", "孙",
    "于", "于", "于", "丛", "丛", "毕", "毕", "谷", "林", "林", "宋", "宋", "邹", "曲", "曲", "姜",
    "姜", "梁", "鞠", "鞠", "夏", "隋", "隋", "徐", "杨", "陈", "赵", "周", "吴", "高", "董", "郭",
    "马", "田", "滕", "戚", "汤", "初", "连", "慕", "衣", "乔", "邵", "吕", "崔", "苗", "蔡", "柳",
    "解", "车", "葛", "矫", "宫", "范",
];

const OLD_MALE: &[&str] = &[
    "建国", "国庆", "志刚", "振华", "德胜", "福贵", "宝山", "玉林", "海生", "永利", "长河", "树林",
    "文学", "庆丰", "春生", "洪涛", "立新", "德福", "克勤", "学文", "强", "军", "明", "刚", "勇",
    "林", "成", "华",
];
const OLD_FEMALE: &[&str] = &[
    "桂英", "秀兰", "玉珍", "凤英", "淑珍", "秀英", "桂兰", "玉兰", "春花", "翠花", "秀芝", "淑芬",
    "素梅", "金凤", "丽华", "美玲", "红霞", "凤芝", "英", "兰", "芳", "霞", "梅",
];
const MID_MALE: &[&str] = &[
    "海涛", "志强", "建军", "晓东", "伟", "磊", "涛", "鹏", "勇", "军", "斌", "刚", "超", "海波",
    "文杰", "俊峰", "晓明", "新华", "永强", "立军", "宏伟", "国栋", "海军", "春雷",
];
const MID_FEMALE: &[&str] = &[
    "丽", "娟", "静", "燕", "敏", "艳", "红", "霞", "丽娜", "晓燕", "海燕", "春燕", "秀丽", "晓红",
    "玉洁", "雪梅", "慧", "琳", "婷", "莉", "丽萍", "玉娟", "海霞",
];
const YOUNG_MALE: &[&str] = &[
    "浩然", "子豪", "宇航", "俊杰", "梓轩", "浩宇", "一鸣", "博文", "天佑", "宇轩", "皓轩", "嘉豪",
    "铭泽", "家乐", "轩", "浩", "睿", "哲", "子墨", "明远", "晨阳",
];
const YOUNG_FEMALE: &[&str] = &[
    "欣怡", "梓涵", "雨桐", "思琪", "佳怡", "诗涵", "可馨", "一诺", "梓萱", "语嫣", "若曦", "雨欣",
    "悦", "萱", "彤", "妍", "琪", "子涵", "静怡", "梦瑶",
];

/// Other address codes people in 环翠区 were born under: the rest of 威海 and some of 山东.
const OTHER_BIRTH_CODES: &[&str] = &[
    "371003", "371082", "371083", "370602", "370612", "370687", "370202", "370102", "371102",
    "370883",
];

const ILLNESSES: &[&str] = &[
    "尿毒症(规律血液透析)",
    "恶性肿瘤(化疗中)",
    "白血病",
    "脑卒中后遗症",
    "重性精神障碍",
    "慢性肾功能衰竭",
    "冠心病(支架术后)",
    "糖尿病伴并发症",
    "肝硬化",
    "帕金森病",
    "器官移植术后抗排异治疗",
    "系统性红斑狼疮",
];

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "198", "199",
];

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("demo division codes are valid by construction")
}

fn weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

struct Village {
    code: DivisionCode,
    name: String,
    township: String,
    urban: bool,
    grids: Vec<DivisionCode>,
}

fn build_divisions() -> (Vec<(DivisionCode, String)>, Vec<Village>) {
    let mut divisions = vec![
        (code("370000"), "山东省".to_string()),
        (code("371000"), "威海市".to_string()),
        (code(COUNTY_CODE), "环翠区".to_string()),
    ];
    let mut villages = Vec::new();
    for (t, (tname, urban, names)) in TOWNSHIPS.iter().enumerate() {
        let tcode = format!("{COUNTY_CODE}{:03}", t + 1);
        divisions.push((code(&tcode), tname.to_string()));
        for (v, vname) in names.iter().enumerate() {
            // Statistical codes: 001–199 residents' committees (社区), 200–399 villagers'
            // committees (村).
            let number = if *urban { v + 1 } else { v + 201 };
            let vcode = format!("{tcode}{number:03}");
            divisions.push((code(&vcode), vname.to_string()));
            // 2 or 3 grids, fixed by position so that the tree does not depend on the seed.
            let grids = 2 + (t + v) % 2;
            let mut grid_codes = Vec::new();
            for (g, gname) in GRID_NAMES.iter().enumerate().take(grids) {
                let gcode = code(&format!("{vcode}{:03}", g + 1));
                divisions.push((gcode.clone(), format!("{vname}{gname}")));
                grid_codes.push(gcode);
            }
            villages.push(Village {
                code: code(&vcode),
                name: vname.to_string(),
                township: tname.to_string(),
                urban: *urban,
                grids: grid_codes,
            });
        }
    }
    (divisions, villages)
}

/// Splits `total` over weights so that the parts sum exactly to `total` (largest remainder).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut parts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut rest = total - parts.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in &order {
        if rest == 0 {
            break;
        }
        parts[i] += 1;
        rest -= 1;
    }
    parts
}

#[derive(Clone, Copy)]
enum Kind {
    ElderlyAlone,
    ElderlyCouple,
    CoupleWithChildren,
    SingleParent,
    ThreeGenerations,
    DisabledAdultChild,
    GrandparentsAndGrandchildren,
    SingleAdult,
}

const KINDS: &[(Kind, u32)] = &[
    (Kind::ElderlyAlone, 18),
    (Kind::ElderlyCouple, 12),
    (Kind::CoupleWithChildren, 24),
    (Kind::SingleParent, 10),
    (Kind::ThreeGenerations, 11),
    (Kind::DisabledAdultChild, 8),
    (Kind::GrandparentsAndGrandchildren, 6),
    (Kind::SingleAdult, 11),
];

/// A person planned before the identity number and facts are drawn.
struct Plan {
    relation: Relation,
    sex: Sex,
    age: u32,
    surname: &'static str,
    /// Forced disability (the disabled adult child of a household of that kind).
    disabled: bool,
}

struct Generator {
    rng: ChaCha8Rng,
    ids: HashSet<[u8; 17]>,
    today: NaiveDate,
}

impl Generator {
    fn surname(&mut self) -> &'static str {
        SURNAMES.choose(&mut self.rng).copied().unwrap_or("王")
    }

    fn other_surname(&mut self, not: &str) -> &'static str {
        loop {
            let s = self.surname();
            if s != not {
                return s;
            }
        }
    }

    fn sex(&mut self, p_male: f64) -> Sex {
        if self.rng.gen_bool(p_male) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    fn given(&mut self, sex: Sex, birth_year: i32) -> &'static str {
        let pool = match (sex, birth_year) {
            (Sex::Male, ..1965) => OLD_MALE,
            (Sex::Female, ..1965) => OLD_FEMALE,
            (Sex::Male, ..1995) => MID_MALE,
            (Sex::Female, ..1995) => MID_FEMALE,
            (Sex::Male, _) => YOUNG_MALE,
            (Sex::Female, _) => YOUNG_FEMALE,
        };
        pool.choose(&mut self.rng).copied().unwrap_or("明")
    }

    /// A birth date at which the person is exactly `age` on `today`.
    fn birth(&mut self, age: u32) -> NaiveDate {
        let anchor =
            NaiveDate::from_ymd_opt(self.today.year() - age as i32, 1, 1).unwrap_or(self.today);
        anchor - Duration::days(self.rng.gen_range(0..364))
    }

    /// A unique valid identity number for the birth date and sex.
    fn id_number(&mut self, birth: NaiveDate, sex: Sex) -> IdNumber {
        loop {
            let area = if self.rng.gen_bool(0.82) {
                COUNTY_CODE
            } else {
                pick(&mut self.rng, OTHER_BIRTH_CODES)
            };
            let police = self.rng.gen_range(0..100u32);
            let last = self.rng.gen_range(0..5u32) * 2 + u32::from(sex == Sex::Male);
            let body = format!("{area}{}{police:02}{last}", birth.format("%Y%m%d"));
            let Ok(bytes) = <[u8; 17]>::try_from(body.as_bytes()) else {
                continue;
            };
            if !self.ids.insert(bytes) {
                continue;
            }
            let full = format!("{body}{}", check_char(&bytes));
            if let Ok(id) = IdNumber::parse(&full) {
                return id;
            }
        }
    }

    fn phone(&mut self) -> String {
        let prefix = pick(&mut self.rng, MOBILE_PREFIXES);
        format!("{prefix}{:08}", self.rng.gen_range(0..100_000_000u32))
    }

    /// A 19-digit UnionPay card number with a valid Luhn check digit, as one-card (一卡通)
    /// accounts are.
    fn bank_account(&mut self) -> String {
        let mut digits: Vec<u32> = vec![6, 2, 1, 7];
        for _ in 0..14 {
            digits.push(self.rng.gen_range(0..10));
        }
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 0 {
                    let x = d * 2;
                    if x > 9 {
                        x - 9
                    } else {
                        x
                    }
                } else {
                    d
                }
            })
            .sum();
        digits.push((10 - sum % 10) % 10);
        digits
            .iter()
            .filter_map(|d| char::from_digit(*d, 10))
            .collect()
    }

    fn plan(&mut self, kind: Kind) -> Vec<Plan> {
        let mut out = Vec::new();
        let r = &mut self.rng;
        let head_age;
        let head_sex;
        match kind {
            Kind::ElderlyAlone => {
                head_age = r.gen_range(60..=94);
                head_sex = if r.gen_bool(0.4) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
            Kind::ElderlyCouple | Kind::GrandparentsAndGrandchildren => {
                head_age = r.gen_range(60..=88);
                head_sex = if r.gen_bool(0.85) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
            Kind::CoupleWithChildren | Kind::ThreeGenerations => {
                head_age = r.gen_range(28..=56);
                head_sex = if r.gen_bool(0.75) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
            Kind::SingleParent => {
                head_age = r.gen_range(26..=52);
                head_sex = if r.gen_bool(0.3) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
            Kind::DisabledAdultChild => {
                head_age = r.gen_range(48..=78);
                head_sex = if r.gen_bool(0.7) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
            Kind::SingleAdult => {
                head_age = r.gen_range(22..=59);
                head_sex = if r.gen_bool(0.6) {
                    Sex::Male
                } else {
                    Sex::Female
                };
            }
        }
        let head_surname = self.surname();
        out.push(Plan {
            relation: Relation::Head,
            sex: head_sex,
            age: head_age,
            surname: head_surname,
            disabled: false,
        });

        let spouse = match kind {
            Kind::ElderlyCouple => true,
            Kind::CoupleWithChildren | Kind::ThreeGenerations => true,
            Kind::DisabledAdultChild => self.rng.gen_bool(0.7),
            Kind::GrandparentsAndGrandchildren => self.rng.gen_bool(0.6),
            _ => false,
        };
        let opposite = match head_sex {
            Sex::Male => Sex::Female,
            Sex::Female => Sex::Male,
        };
        let mut youngest_parent = head_age;
        // Children take the father's surname.
        let mut family_surname = head_surname;
        if spouse {
            let delta: i32 = self.rng.gen_range(-6..=4);
            let age = (head_age as i32 + if head_sex == Sex::Male { delta } else { -delta })
                .clamp(22, 96) as u32;
            let surname = self.other_surname(head_surname);
            if head_sex == Sex::Female {
                family_surname = surname;
            }
            youngest_parent = youngest_parent.min(age);
            out.push(Plan {
                relation: Relation::Spouse,
                sex: opposite,
                age,
                surname,
                disabled: false,
            });
        }

        let children = match kind {
            Kind::CoupleWithChildren => self.rng.gen_range(1..=3),
            Kind::SingleParent => self.rng.gen_range(1..=2),
            Kind::ThreeGenerations => self.rng.gen_range(1..=2),
            Kind::DisabledAdultChild => 1,
            _ => 0,
        };
        for _ in 0..children {
            let (lo, hi) = match kind {
                // An adult child: parents were 20–40 at the birth and the child is 18 or older.
                Kind::DisabledAdultChild => (20.max(youngest_parent.saturating_sub(45)), 40),
                _ => (20, 40),
            };
            let gap = self.rng.gen_range(lo..=hi.max(lo)).min(youngest_parent);
            let mut age = youngest_parent - gap;
            if matches!(kind, Kind::DisabledAdultChild) {
                age = age.max(18).min(youngest_parent.saturating_sub(18));
            }
            let sex = self.sex(0.52);
            out.push(Plan {
                relation: Relation::Child,
                sex,
                age,
                surname: family_surname,
                disabled: matches!(kind, Kind::DisabledAdultChild),
            });
        }

        if matches!(kind, Kind::ThreeGenerations) {
            let n = self.rng.gen_range(1..=2);
            let father_age = (head_age + self.rng.gen_range(22..=34)).min(99);
            for i in 0..n {
                // With both parents: the father first; a lone surviving parent is more often
                // the mother.
                let sex = if n == 2 {
                    if i == 0 {
                        Sex::Male
                    } else {
                        Sex::Female
                    }
                } else {
                    self.sex(0.35)
                };
                let (age, surname) = match sex {
                    Sex::Male => (father_age, head_surname),
                    Sex::Female => (
                        (father_age as i32 - self.rng.gen_range(0..=4)).max(head_age as i32 + 20)
                            as u32,
                        self.other_surname(head_surname),
                    ),
                };
                out.push(Plan {
                    relation: Relation::Parent,
                    sex,
                    age,
                    surname,
                    disabled: false,
                });
            }
        }

        if matches!(kind, Kind::GrandparentsAndGrandchildren) {
            let n = self.rng.gen_range(1..=2);
            let surname = if head_sex == Sex::Male && self.rng.gen_bool(0.7) {
                head_surname
            } else {
                self.other_surname(head_surname)
            };
            for _ in 0..n {
                let age = self.rng.gen_range(3..=16).min(head_age.saturating_sub(40));
                let sex = self.sex(0.5);
                out.push(Plan {
                    relation: Relation::Grandchild,
                    sex,
                    age,
                    surname,
                    disabled: false,
                });
            }
        }

        // Now and then an unmarried sibling of the head lives in the household.
        if matches!(kind, Kind::SingleAdult | Kind::ElderlyAlone) && self.rng.gen_bool(0.08) {
            let age = (head_age as i32 + self.rng.gen_range(-8..=8)).clamp(18, 95) as u32;
            let sex = self.sex(0.5);
            out.push(Plan {
                relation: Relation::Sibling,
                sex,
                age,
                surname: head_surname,
                disabled: false,
            });
        }
        out
    }

    fn disability(&mut self, plan: &Plan) -> Option<Disability> {
        if plan.disabled {
            let kind = *weighted(
                &mut self.rng,
                &[
                    (DisabilityKind::Intellectual, 35),
                    (DisabilityKind::Mental, 25),
                    (DisabilityKind::Physical, 25),
                    (DisabilityKind::Multiple, 15),
                ],
            );
            let grade = *weighted(&mut self.rng, &[(1u8, 30), (2, 40), (3, 30)]);
            return Some(Disability { kind, grade });
        }
        let p = if plan.age >= 60 { 0.11 } else { 0.06 };
        if !self.rng.gen_bool(p) {
            return None;
        }
        let kind = *weighted(
            &mut self.rng,
            &[
                (DisabilityKind::Physical, 35),
                (DisabilityKind::Visual, 12),
                (DisabilityKind::Hearing, 15),
                (DisabilityKind::Speech, 3),
                (DisabilityKind::Intellectual, 12),
                (DisabilityKind::Mental, 15),
                (DisabilityKind::Multiple, 8),
            ],
        );
        let grade = *weighted(&mut self.rng, &[(1u8, 15), (2, 30), (3, 30), (4, 25)]);
        Some(Disability { kind, grade })
    }

    fn education(&mut self, age: u32, disability: Option<Disability>) -> EducationStage {
        use EducationStage::*;
        let severe = disability.is_some_and(|d| d.grade <= 1);
        if severe && self.rng.gen_bool(0.5) {
            return NotInSchool;
        }
        match age {
            0..=2 => NotInSchool,
            3..=5 => {
                if self.rng.gen_bool(0.9) {
                    Preschool
                } else {
                    NotInSchool
                }
            }
            6..=11 => Primary,
            12..=14 => JuniorSecondary,
            15..=17 => *weighted(
                &mut self.rng,
                &[(SeniorSecondary, 62), (Vocational, 32), (NotInSchool, 6)],
            ),
            18..=21 => *weighted(
                &mut self.rng,
                &[(Undergraduate, 38), (Vocational, 20), (NotInSchool, 42)],
            ),
            22..=25 => *weighted(&mut self.rng, &[(Postgraduate, 5), (NotInSchool, 95)]),
            _ => NotInSchool,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn facts(
        &mut self,
        plan: &Plan,
        id: &IdNumber,
        name: &str,
        residence: &DivisionCode,
        home_village: &DivisionCode,
        villages: &[Village],
        urban: bool,
    ) -> PersonFacts {
        let age = plan.age;
        let disability = self.disability(plan);
        let serious_illness = if age >= 40 {
            self.rng.gen_bool(0.07)
        } else {
            self.rng.gen_bool(0.015)
        };
        let illness_note = serious_illness.then(|| pick(&mut self.rng, ILLNESSES).to_string());
        let education = self.education(age, disability);
        let severe = disability.is_some_and(|d| d.grade <= 2) || serious_illness;
        let retirement_age = if plan.sex == Sex::Male { 60 } else { 55 };

        let employment = if age < 16 || education.in_school() {
            Employment::NotInLabourForce
        } else if age >= retirement_age {
            if urban && self.rng.gen_bool(0.35) {
                Employment::Retired
            } else if !urban && age < 70 && self.rng.gen_bool(0.3) {
                // Farming their own plot.
                Employment::SelfEmployed
            } else {
                Employment::NotInLabourForce
            }
        } else if severe {
            Employment::NotInLabourForce
        } else {
            *weighted(
                &mut self.rng,
                &[
                    (Employment::Employed, 30),
                    (Employment::SelfEmployed, 25),
                    (Employment::Unemployed, 30),
                    (Employment::NotInLabourForce, 15),
                ],
            )
        };

        let work_ability = if !(16..70).contains(&age) || disability.is_some_and(|d| d.grade <= 2) {
            WorkAbility::Unable
        } else if serious_illness {
            if self.rng.gen_bool(0.5) {
                WorkAbility::Unable
            } else {
                WorkAbility::Partial
            }
        } else if age >= 60 || disability.is_some() {
            WorkAbility::Partial
        } else {
            WorkAbility::Able
        };

        let self_care = if (age >= 60 && self.rng.gen_bool(0.7))
            || (disability.is_some_and(|d| d.grade <= 2) && self.rng.gen_bool(0.8))
        {
            let frail = age >= 75 || disability.is_some_and(|d| d.grade == 1);
            let unable = if frail {
                *weighted(
                    &mut self.rng,
                    &[
                        (0usize, 45),
                        (1, 12),
                        (2, 12),
                        (3, 11),
                        (4, 8),
                        (5, 6),
                        (6, 6),
                    ],
                )
            } else {
                *weighted(
                    &mut self.rng,
                    &[(0usize, 75), (1, 9), (2, 6), (3, 5), (4, 2), (5, 2), (6, 1)],
                )
            };
            // Abilities are lost roughly in this order: bathing first, eating last.
            let lost = |k: usize| unable > k;
            let assessed_on = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(self.today)
                + Duration::days(self.rng.gen_range(0..360));
            Some(SelfCareAssessment {
                bathing: !lost(0),
                walking_indoors: !lost(1),
                toileting: !lost(2),
                dressing: !lost(3),
                bed_transfer: !lost(4),
                eating: !lost(5),
                assessed_on,
            })
        } else {
            None
        };

        let phone = if plan.relation == Relation::Head {
            self.rng.gen_bool(0.95).then(|| self.phone())
        } else if (18..=70).contains(&age) {
            self.rng.gen_bool(0.4).then(|| self.phone())
        } else {
            None
        };
        let bank_account = if plan.relation == Relation::Head && self.rng.gen_bool(0.8) {
            Some(self.bank_account())
        } else {
            None
        };
        // Most are registered where they live; some live away from their registration
        // (人户分离) in another village of the county.
        let hukou = if self.rng.gen_bool(0.9) {
            home_village.clone()
        } else {
            villages
                .choose(&mut self.rng)
                .map(|v| v.code.clone())
                .unwrap_or_else(|| home_village.clone())
        };

        PersonFacts {
            name: name.to_string(),
            sex: id.sex(),
            birth_date: id.birth_date(),
            hukou_division: Some(hukou),
            residence_division: residence.clone(),
            phone,
            disability,
            serious_illness,
            illness_note,
            education,
            employment,
            work_ability,
            self_care,
            bank_account,
        }
    }
}

fn users() -> Vec<DemoUser> {
    let user = |username: &str,
                display_name: &str,
                role: Role,
                department: Option<Department>,
                division: &str,
                password: &str| DemoUser {
        username: username.to_string(),
        display_name: display_name.to_string(),
        role,
        department,
        division: code(division),
        password: password.to_string(),
    };
    vec![
        // 三员分立: three administrators, none of whom sees business data.
        user(
            "demo_admin",
            "于建华",
            Role::SystemAdmin,
            None,
            "371002",
            "Demo@2026-admin",
        ),
        user(
            "demo_secadmin",
            "谷春梅",
            Role::SecurityAdmin,
            None,
            "371002",
            "Demo@2026-secadm",
        ),
        user(
            "demo_auditadmin",
            "鞠明亮",
            Role::AuditAdmin,
            None,
            "371002",
            "Demo@2026-audadm",
        ),
        user(
            "manager_huancui",
            "王海燕",
            Role::CountyManager,
            None,
            "371002",
            "Demo@2026-manage",
        ),
        user(
            "clerk_huancuilou",
            "林晓燕",
            Role::WindowClerk,
            None,
            "371002001",
            "Demo@2026-clerk",
        ),
        user(
            "clerk_jingyuan",
            "丛海波",
            Role::WindowClerk,
            None,
            "371002002",
            "Demo@2026-clerk2",
        ),
        user(
            "assistant_xinweilu",
            "毕秀丽",
            Role::VillageAssistant,
            None,
            "371002001001",
            "Demo@2026-assist",
        ),
        user(
            "reviewer_huancuilou",
            "孙志强",
            Role::TownshipReviewer,
            None,
            "371002001",
            "Demo@2026-review",
        ),
        user(
            "approver_huancui",
            "曲文杰",
            Role::CountyApprover,
            None,
            "371002",
            "Demo@2026-approve",
        ),
        user(
            "officer_yibao",
            "姜丽娜",
            Role::DepartmentOfficer,
            Some(Department::MedicalInsurance),
            "371002",
            "Demo@2026-medins",
        ),
        // Officers of two more delivering departments: the traffic police's vehicle office and
        // a bank, each bound to its own registered source (demo_feeds::sources).
        user(
            "officer_gongan",
            "于建国",
            Role::DepartmentOfficer,
            Some(Department::PublicSecurity),
            "371002",
            "Demo@2026-police",
        ),
        user(
            "officer_bank",
            "宋佳怡",
            Role::DepartmentOfficer,
            Some(Department::Finance),
            "371002",
            "Demo@2026-banker",
        ),
        // The medical insurance office's settlement system, delivering over the API with
        // OAuth2 client credentials (its secret is the demo password; it has no page login).
        user(
            "yibao_system",
            "医保结算系统",
            Role::DepartmentSystem,
            Some(Department::MedicalInsurance),
            "371002",
            "Demo@2026-yibaosys",
        ),
        user(
            "auditor_huancui",
            "隋立军",
            Role::Auditor,
            None,
            "371002",
            "Demo@2026-audit",
        ),
    ]
}

/// Builds the demo county. Deterministic in `seed`; the jurisdiction tree and the accounts do not
/// depend on it, the households do.
pub fn generate(seed: u64) -> DemoData {
    let (divisions, villages) = build_divisions();
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        ids: HashSet::with_capacity(HOUSEHOLDS * 3),
        today: valid_from(),
    };

    // Urban communities are denser than villages.
    let weights: Vec<f64> = villages
        .iter()
        .map(|v| g.rng.gen_range(0.6..1.4) * if v.urban { 1.3 } else { 1.0 })
        .collect();
    let counts = apportion(HOUSEHOLDS, &weights);

    let mut households = Vec::with_capacity(HOUSEHOLDS);
    let mut members = Vec::with_capacity(HOUSEHOLDS * 3);
    for (village, count) in villages.iter().zip(counts) {
        let mut doors = HashSet::new();
        for seq in 1..=count {
            // Most households are managed at grid level, some only at village level.
            let division = if g.rng.gen_bool(0.8) {
                village
                    .grids
                    .choose(&mut g.rng)
                    .cloned()
                    .unwrap_or_else(|| village.code.clone())
            } else {
                village.code.clone()
            };
            let address = loop {
                let door = if village.urban {
                    format!(
                        "{}号楼{}单元{}{:02}室",
                        g.rng.gen_range(1..=40),
                        g.rng.gen_range(1..=4),
                        g.rng.gen_range(1..=7),
                        g.rng.gen_range(1..=2)
                    )
                } else {
                    format!("{}号", g.rng.gen_range(1..=480))
                };
                if doors.insert(door.clone()) {
                    break format!("{}{}{}", village.township, village.name, door);
                }
            };
            let h_index = households.len();
            households.push(ImportHousehold {
                row: h_index + 2,
                source_ref: format!("{}{seq:04}", village.code),
                division: division.clone(),
                area: if village.urban {
                    Area::Urban
                } else {
                    Area::Rural
                },
                address,
            });

            let kind = *weighted(&mut g.rng, KINDS);
            let plans = g.plan(kind);
            let mut names: Vec<String> = Vec::with_capacity(plans.len());
            for plan in &plans {
                let birth = g.birth(plan.age);
                let id = g.id_number(birth, plan.sex);
                // No two members of a household share a name.
                let name = loop {
                    let n = format!("{}{}", plan.surname, g.given(plan.sex, birth.year()));
                    if !names.contains(&n) {
                        break n;
                    }
                };
                names.push(name.clone());
                let facts = g.facts(
                    plan,
                    &id,
                    &name,
                    &division,
                    &village.code,
                    &villages,
                    village.urban,
                );
                members.push(ImportMember {
                    row: members.len() + 2,
                    household: h_index,
                    id_number: id,
                    name,
                    relation: plan.relation,
                    facts: Some(Box::new(facts)),
                });
            }
        }
    }

    let batch = CaseloadBatch {
        households,
        members,
        valid_from: valid_from(),
        create_missing_divisions: false,
        current_recipients: false,
        source: "demo".to_string(),
    };
    DemoData {
        divisions,
        economics: economics(seed, &batch),
        batch,
        users: users(),
    }
}

/// Per-person monthly 低保 standards the spread of demo incomes is drawn around (威海 2020-07:
/// urban 787, rural 588). Only the demo uses them; the engine takes its values from the policy.
const URBAN_LINE: i64 = 787;
const RURAL_LINE: i64 = 588;

/// Economics for every household, from their own random stream (so that adding them left the
/// county itself unchanged): most households well below the line, some near or above it, a few
/// with assets over the limits, a few elderly people living alone recognised as 特困.
fn economics(seed: u64, batch: &CaseloadBatch) -> Vec<DemoEconomics> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6a69_757a_6875_6563);
    let mut by_household: Vec<Vec<&ImportMember>> = vec![Vec::new(); batch.households.len()];
    for m in &batch.members {
        by_household[m.household].push(m);
    }
    let today = valid_from();
    let age = |m: &ImportMember| -> u32 {
        let birth = m
            .facts
            .as_ref()
            .map(|f| f.birth_date)
            .unwrap_or_else(|| m.id_number.birth_date());
        today.years_since(birth).unwrap_or(0)
    };
    let mut out = Vec::with_capacity(batch.households.len());
    for (h, members) in batch.households.iter().zip(&by_household) {
        let line = if h.area == Area::Urban {
            URBAN_LINE
        } else {
            RURAL_LINE
        };
        let n = members.len().max(1) as i64;
        // Household income as a share (per cent) of members × line.
        let share: i64 = match rng.gen_range(0..100) {
            0..=9 => 0,
            10..=74 => rng.gen_range(10..=85),
            75..=89 => rng.gen_range(86..=110),
            _ => rng.gen_range(111..=180),
        };
        let total_fen = line * 100 * n * share / 100;
        let earners: Vec<usize> = (0..members.len())
            .filter(|&i| (18..60).contains(&age(members[i])))
            .collect();
        let earners = if earners.is_empty() { vec![0] } else { earners };
        let mut ms = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let facts = m.facts.as_deref();
            let mut income = 0;
            if earners.contains(&i) {
                // Whole yuan.
                income = total_fen / earners.len() as i64 / 100 * 100;
            }
            let medical = if facts.is_some_and(|f| f.serious_illness) {
                rng.gen_range(100..=800) * 100
            } else {
                0
            };
            let education = if facts.is_some_and(|f| f.education.in_school()) {
                rng.gen_range(5..=30) * 1000
            } else {
                0
            };
            let employment_cost = if income > 0 && rng.gen_bool(0.3) {
                rng.gen_range(5..=20) * 1000
            } else {
                0
            };
            ms.push(MemberEconomics {
                person_id: 0,
                income: Money::from_fen(income),
                medical_expense: Money::from_fen(medical),
                disability_expense: Money::ZERO,
                education_expense: Money::from_fen(education),
                employment_cost: Money::from_fen(employment_cost),
                medical_costs: vec![],
                tekun: None,
            });
        }
        // Elderly people living alone with little income: some are recognised 特困.
        if members.len() == 1 && age(members[0]) >= 60 && share < 50 && rng.gen_bool(0.25) {
            ms[0].tekun = Some(TekunFacts {
                status: TekunState::Recognised,
                centralised: rng.gen_bool(0.2),
                supporter: TekunSupporter::None,
            });
        }
        let mut assets = HouseholdAssets {
            financial: Money::from_yuan(rng.gen_range(0..=200) * 100),
            dwellings: u32::from(rng.gen_bool(0.9)),
            vehicles: 0,
            business_registrations: 0,
        };
        match rng.gen_range(0..100) {
            0..=2 => assets.financial = Money::from_yuan(rng.gen_range(800..=2000) * 100),
            3..=4 => assets.vehicles = 1,
            5 => assets.dwellings = 2,
            _ => {}
        }
        out.push(DemoEconomics {
            household_ref: h.source_ref.clone(),
            id_numbers: members.iter().map(|m| m.id_number.clone()).collect(),
            economics: HouseholdEconomics {
                members: ms,
                assets,
                dibao_history: None,
            },
        });
    }
    out
}
