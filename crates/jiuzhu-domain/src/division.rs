//! Jurisdictions (行政区划): nation → province → city → county (GB/T 2260, 6 digits) → township/street
//! (first 9 digits of the 12-digit statistical code) → village/community (12 digits) → grid (网格,
//! 15 characters: the village code and a 3-digit grid number).
//!
//! The code alone says the level and the ancestors, so "is X inside Y" is a prefix test. That is
//! what makes jurisdiction scoping a single `LIKE 'prefix%'` in every query.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Nation,
    Province,
    City,
    County,
    Township,
    Village,
    Grid,
}

impl Level {
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Nation => "全国",
            Level::Province => "省",
            Level::City => "市",
            Level::County => "区县",
            Level::Township => "乡镇/街道",
            Level::Village => "村/社区",
            Level::Grid => "网格",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Nation => "nation",
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    #[error("division code must be 6, 9, 12 or 15 digits, got {0:?}")]
    Shape(String),
    #[error("division code {0:?} has a zero segment where a level needs a number")]
    ZeroSegment(String),
}

impl DivisionCodeError {
    pub fn code(&self) -> &'static str {
        match self {
            DivisionCodeError::Shape(_) => "DIVISION_SHAPE",
            DivisionCodeError::ZeroSegment(_) => "DIVISION_ZERO_SEGMENT",
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            DivisionCodeError::Shape(s) => {
                format!("区划代码“{s}”应为6位(省市县)、9位(乡镇)、12位(村社区)或15位(网格)数字")
            }
            DivisionCodeError::ZeroSegment(s) => format!("区划代码“{s}”的本级编号不能为全零"),
        }
    }
}

/// A validated division code in canonical form. A 12-digit statistical code whose last three
/// digits are `000` is a township and is stored as its 9-digit prefix.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode(String);

pub const NATION_CODE: &str = "000000";

impl DivisionCode {
    pub fn nation() -> DivisionCode {
        DivisionCode(NATION_CODE.to_string())
    }

    pub fn parse(input: &str) -> Result<DivisionCode, DivisionCodeError> {
        let s = input.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError::Shape(s.to_string()));
        }
        let canonical = match s.len() {
            6 | 9 | 15 => s.to_string(),
            12 if s.ends_with("000") => s[..9].to_string(),
            12 => s.to_string(),
            _ => return Err(DivisionCodeError::Shape(s.to_string())),
        };
        let zero = |a: usize, b: usize| canonical[a..b].bytes().all(|c| c == b'0');
        let bad = match canonical.len() {
            9 => zero(6, 9) || zero(4, 6),
            12 => zero(9, 12) || zero(6, 9),
            15 => zero(12, 15) || zero(9, 12),
            _ => false,
        };
        if bad {
            return Err(DivisionCodeError::ZeroSegment(s.to_string()));
        }
        Ok(DivisionCode(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> Level {
        let s = &self.0;
        match s.len() {
            9 => Level::Township,
            12 => Level::Village,
            15 => Level::Grid,
            _ if s == NATION_CODE => Level::Nation,
            _ if s.ends_with("0000") => Level::Province,
            _ if s.ends_with("00") => Level::City,
            _ => Level::County,
        }
    }

    /// The significant prefix: every descendant's code starts with it.
    pub fn prefix(&self) -> &str {
        let s = &self.0;
        match self.level() {
            Level::Nation => "",
            Level::Province => &s[..2],
            Level::City => &s[..4],
            _ => s,
        }
    }

    /// Whether `other` is this division or lies inside it.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(self.prefix())
    }

    /// The possible ancestors from the nearest upwards (they need not all exist in a tree:
    /// a county may hang directly under a province).
    pub fn ancestors(&self) -> Vec<DivisionCode> {
        let s = &self.0;
        let mut out = Vec::new();
        let mut push = |c: String| {
            if c != *s && !out.iter().any(|d: &DivisionCode| d.0 == c) {
                out.push(DivisionCode(c));
            }
        };
        if s.len() >= 15 {
            push(s[..12].to_string());
        }
        if s.len() >= 12 {
            push(s[..9].to_string());
        }
        if s.len() >= 9 {
            push(s[..6].to_string());
        }
        let county = &s[..6];
        if self.level() != Level::Nation {
            push(format!("{}00", &county[..4]));
            push(format!("{}0000", &county[..2]));
            push(NATION_CODE.to_string());
        }
        out
    }

    /// The 6-digit county-level code this division belongs to (`None` above county level).
    pub fn county(&self) -> Option<DivisionCode> {
        (self.level() >= Level::County).then(|| DivisionCode(self.0[..6].to_string()))
    }

    /// The township this division belongs to (`None` above township level).
    pub fn township(&self) -> Option<DivisionCode> {
        (self.level() >= Level::Township).then(|| DivisionCode(self.0[..9].to_string()))
    }

    /// The village or community this division belongs to (`None` above village level).
    pub fn village(&self) -> Option<DivisionCode> {
        (self.level() >= Level::Village).then(|| DivisionCode(self.0[..12].to_string()))
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Division({})", self.0)
    }
}
impl Serialize for DivisionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A node of the jurisdiction tree.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub level: Level,
    /// The nearest existing ancestor in the tree (`None` only for the root).
    pub parent: Option<DivisionCode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_and_prefixes() {
        assert_eq!(code("370000").level(), Level::Province);
        assert_eq!(code("371000").level(), Level::City);
        assert_eq!(code("371002").level(), Level::County);
        assert_eq!(code("371002001").level(), Level::Township);
        assert_eq!(code("371002001000").as_str(), "371002001");
        assert_eq!(code("371002001201").level(), Level::Village);
        assert_eq!(code("371002001201003").level(), Level::Grid);
        assert_eq!(code("371000").prefix(), "3710");
        assert!(code("371000").contains(&code("371002001201")));
        assert!(!code("371002001").contains(&code("371002002201")));
        assert!(DivisionCode::nation().contains(&code("520304")));
    }

    #[test]
    fn county_township_and_village_of_a_code() {
        let grid = code("371002001201003");
        let parts = |c: &DivisionCode| {
            [c.county(), c.township(), c.village()].map(|d| d.map(|d| d.to_string()))
        };
        assert_eq!(
            parts(&grid),
            [
                Some("371002".into()),
                Some("371002001".into()),
                Some("371002001201".into())
            ]
        );
        assert_eq!(
            parts(&code("371002001")),
            [Some("371002".into()), Some("371002001".into()), None]
        );
        assert_eq!(parts(&code("371000")), [None, None, None]);
    }

    #[test]
    fn ancestors_go_up_to_the_nation() {
        let a: Vec<String> = code("371002001201003")
            .ancestors()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            a,
            [
                "371002001201",
                "371002001",
                "371002",
                "371000",
                "370000",
                "000000"
            ]
        );
    }

    #[test]
    fn bad_codes_are_rejected() {
        assert!(matches!(
            DivisionCode::parse("3710"),
            Err(DivisionCodeError::Shape(_))
        ));
        assert!(matches!(
            DivisionCode::parse("37100a"),
            Err(DivisionCodeError::Shape(_))
        ));
        assert!(matches!(
            DivisionCode::parse("371002001000000"),
            Err(DivisionCodeError::ZeroSegment(_))
        ));
    }
}
