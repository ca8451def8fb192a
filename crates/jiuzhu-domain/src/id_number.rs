//! Resident identity numbers (公民身份号码) per GB 11643-1999.
//!
//! An 18-character number is a 6-digit address code, an 8-digit birth date, a 3-digit sequence
//! (odd for men, even for women) and an ISO 7064 MOD 11-2 check character. Legacy 15-digit
//! numbers (two-digit year, no check character) are converted by inserting "19" and computing the
//! check character.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Why a string is not a valid identity number. Each reason is distinct so that a clerk can be
/// told exactly what to correct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("identity number must have 18 characters (or 15 for a legacy number), got {0}")]
    Length(usize),
    #[error("identity number has an invalid character at position {position}")]
    Character { position: usize },
    #[error("identity number contains an impossible birth date {0}")]
    BirthDate(String),
    #[error("identity number check character is {found}, expected {expected}")]
    CheckDigit { found: char, expected: char },
}

impl IdNumberError {
    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Length(_) => "ID_LENGTH",
            IdNumberError::Character { .. } => "ID_CHARACTER",
            IdNumberError::BirthDate(_) => "ID_BIRTH_DATE",
            IdNumberError::CheckDigit { .. } => "ID_CHECK_DIGIT",
        }
    }

    /// The reason in Chinese, for users.
    pub fn message_zh(&self) -> String {
        match self {
            IdNumberError::Length(n) => format!("身份证号码应为18位(或15位旧号码),实际为{n}位"),
            IdNumberError::Character { position } => {
                format!("身份证号码第{position}位含有非法字符")
            }
            IdNumberError::BirthDate(d) => format!("身份证号码中的出生日期{d}不存在"),
            IdNumberError::CheckDigit { found, expected } => {
                format!("身份证号码校验码错误:为{found},应为{expected}")
            }
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn parse(s: &str) -> Option<Sex> {
        match s {
            "male" | "男" | "M" | "m" => Some(Sex::Male),
            "female" | "女" | "F" | "f" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// A validated 18-character identity number, stored in canonical upper case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber([u8; 18]);

/// The check character for the first 17 digits.
pub fn check_char(body: &[u8; 17]) -> char {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize] as char
}

fn parse_birth(digits: &[u8]) -> Result<NaiveDate, IdNumberError> {
    let text = std::str::from_utf8(digits).expect("ascii digits");
    let bad = || IdNumberError::BirthDate(text.to_string());
    let y: i32 = text[0..4].parse().map_err(|_| bad())?;
    let m: u32 = text[4..6].parse().map_err(|_| bad())?;
    let d: u32 = text[6..8].parse().map_err(|_| bad())?;
    if y < 1800 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad)
}

impl IdNumber {
    /// Parses an 18-character number, or converts a legacy 15-digit one. Surrounding white space
    /// is ignored and a lower-case `x` accepted.
    pub fn parse(input: &str) -> Result<IdNumber, IdNumberError> {
        let s = input.trim();
        let chars = s.chars().count();
        match chars {
            18 => Self::parse18(s.as_bytes()),
            15 => Self::from_legacy15(s),
            n => Err(IdNumberError::Length(n)),
        }
    }

    fn parse18(b: &[u8]) -> Result<IdNumber, IdNumberError> {
        // 18 chars but possibly multi-byte: reject non-ascii by position.
        if b.len() != 18 {
            let pos = std::str::from_utf8(b)
                .map(|s| s.chars().position(|c| !c.is_ascii()).unwrap_or(0) + 1)
                .unwrap_or(1);
            return Err(IdNumberError::Character { position: pos });
        }
        let mut out = [0u8; 18];
        for (i, &c) in b.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (c == b'X' || c == b'x'));
            if !ok {
                return Err(IdNumberError::Character { position: i + 1 });
            }
            out[i] = c.to_ascii_uppercase();
        }
        parse_birth(&out[6..14])?;
        let body: [u8; 17] = out[..17].try_into().expect("17 bytes");
        let expected = check_char(&body);
        let found = out[17] as char;
        if found != expected {
            return Err(IdNumberError::CheckDigit { found, expected });
        }
        Ok(IdNumber(out))
    }

    /// Converts a legacy 15-digit number (issued before 1999: `AAAAAA YYMMDD SSS`).
    pub fn from_legacy15(s: &str) -> Result<IdNumber, IdNumberError> {
        let b = s.as_bytes();
        if b.len() != 15 {
            return Err(IdNumberError::Length(s.chars().count()));
        }
        if let Some(i) = b.iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdNumberError::Character { position: i + 1 });
        }
        let mut body = [0u8; 17];
        body[..6].copy_from_slice(&b[..6]);
        body[6..8].copy_from_slice(b"19");
        body[8..17].copy_from_slice(&b[6..15]);
        parse_birth(&body[6..14])?;
        let mut out = [0u8; 18];
        out[..17].copy_from_slice(&body);
        out[17] = check_char(&body) as u8;
        Ok(IdNumber(out))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii")
    }

    /// The 6-digit address code of the place where the number was issued.
    pub fn address_code(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        parse_birth(&self.0[6..14]).expect("validated at construction")
    }

    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        let b = self.birth_date();
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age.max(0) as u32
    }

    /// The masked form shown to users who may not see the full number: the first four and the
    /// last four characters, e.g. `3710**********123X`.
    pub fn masked(&self) -> String {
        mask_id_str(self.as_str())
    }
}

/// Masks any identity-number-like string: keeps the first six characters, the issuing region
/// (which the person's address mostly tells anyway), and hides the birth date, the sequence
/// number and the check character: `371002************`. Keeping the last four, as many
/// systems do, gives away the sequence number; with the birth date shown elsewhere that left
/// about a hundred candidates (docs/security.md, "Masking"). Shorter strings are hidden whole.
pub fn mask_id_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(chars.len());
    out.extend(&chars[..6]);
    out.extend(std::iter::repeat_n('*', chars.len() - 6));
    out
}

/// Masks a telephone number the one way every page, answer and audit copy does: a mobile
/// number keeps its first three and last four digits (`138****5678`); shorter numbers their
/// first and last two; very short ones are hidden whole.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let (head, tail) = match chars.len() {
        n if n >= 11 => (3, 4),
        n if n >= 7 => (2, 2),
        _ => (0, 0),
    };
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IdNumber {
    // Debug output ends up in logs; never print the full number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl FromStr for IdNumber {
    type Err = IdNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_example_is_valid() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.address_code(), "110105");
        // The birth date, the sequence number and the check character are all hidden.
        assert_eq!(id.masked(), "110105************");
        assert_eq!(mask_phone("13906311234"), "139****1234");
        assert_eq!(mask_phone("0631-5201234"), "063*****1234");
        assert_eq!(mask_phone("5201234"), "52***34");
    }

    #[test]
    fn wrong_check_digit_is_rejected() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit {
                found: '1',
                expected: 'X'
            })
        );
    }

    #[test]
    fn lower_case_x_is_accepted() {
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn each_failure_is_distinct() {
        assert_eq!(IdNumber::parse("1234"), Err(IdNumberError::Length(4)));
        assert_eq!(
            IdNumber::parse("1101051949123100AX"),
            Err(IdNumberError::Character { position: 17 })
        );
        assert_eq!(
            IdNumber::parse("110105194913310021"),
            Err(IdNumberError::BirthDate("19491331".into()))
        );
        assert!(matches!(
            IdNumber::parse("11010519490229002X"),
            Err(IdNumberError::BirthDate(_))
        ));
        assert_eq!(
            IdNumber::parse("11010519491231002中"),
            Err(IdNumberError::Character { position: 18 })
        );
    }

    #[test]
    fn legacy_fifteen_digit_numbers_convert() {
        // 15-digit 110105491231002 -> 11010519491231002X
        let id = IdNumber::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert!(matches!(
            IdNumber::parse("110105491331002"),
            Err(IdNumberError::BirthDate(_))
        ));
    }

    #[test]
    fn age_counts_whole_years() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.age_on(NaiveDate::from_ymd_opt(2009, 12, 30).unwrap()),
            59
        );
        assert_eq!(
            id.age_on(NaiveDate::from_ymd_opt(2009, 12, 31).unwrap()),
            60
        );
    }

    proptest::proptest! {
        #[test]
        fn any_body_with_its_check_char_round_trips(
            days in 0i64..40000, seq in 0u32..1000, area in 110000u32..660000
        ) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let body = format!("{area:06}{}{seq:03}", birth.format("%Y%m%d"));
            let b: [u8; 17] = body.as_bytes().try_into().unwrap();
            let full = format!("{body}{}", check_char(&b));
            let id = IdNumber::parse(&full).unwrap();
            proptest::prop_assert_eq!(id.birth_date(), birth);
            proptest::prop_assert_eq!(id.as_str(), full.as_str());
        }
    }
}
