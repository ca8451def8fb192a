//! Exact money: an integer number of fen (分, 0.01 yuan). Never binary floating point.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a number")]
    NotANumber(String),
    #[error("amount {0:?} has more than two decimals")]
    TooManyDecimals(String),
    #[error("amount {0:?} is out of range")]
    OutOfRange(String),
}

impl MoneyError {
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::Empty => "MONEY_EMPTY",
            MoneyError::NotANumber(_) => "MONEY_NOT_A_NUMBER",
            MoneyError::TooManyDecimals(_) => "MONEY_TOO_MANY_DECIMALS",
            MoneyError::OutOfRange(_) => "MONEY_OUT_OF_RANGE",
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            MoneyError::Empty => "金额不能为空".into(),
            MoneyError::NotANumber(s) => format!("金额“{s}”不是数字"),
            MoneyError::TooManyDecimals(s) => format!("金额“{s}”超过两位小数"),
            MoneyError::OutOfRange(s) => format!("金额“{s}”超出范围"),
        }
    }
}

/// An amount of money in fen. Serialised as a decimal string of yuan with two decimals
/// (`"787.00"`), so JSON consumers never see a float.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }
    pub const fn from_yuan(yuan: i64) -> Money {
        Money(yuan * 100)
    }
    pub const fn fen(self) -> i64 {
        self.0
    }
    pub fn max(self, other: Money) -> Money {
        Money(self.0.max(other.0))
    }
    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn times(self, n: i64) -> Money {
        Money(self.0 * n)
    }

    /// Parses yuan with at most two decimals: `"787"`, `"787.5"`, `"787.50"`, `"-3.20"`.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let nan = || MoneyError::NotANumber(s.to_string());
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(nan());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(nan());
        }
        if frac_part.len() > 2 {
            return Err(MoneyError::TooManyDecimals(s.to_string()));
        }
        let range = || MoneyError::OutOfRange(s.to_string());
        let yuan: i64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| range())?
        };
        let mut fen_part: i64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().map_err(|_| nan())?
        };
        if frac_part.len() == 1 {
            fen_part *= 10;
        }
        let total = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(fen_part))
            .ok_or_else(range)?;
        Ok(Money(if neg { -total } else { total }))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{self}")
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a string (`"787.00"`) or a JSON integer/decimal number with at most two decimals;
    /// the number's textual form is parsed, never converted through a float.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let text = match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "amount must be a string or number",
                ))
            }
        };
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(Money::parse("787").unwrap().fen(), 78700);
        assert_eq!(Money::parse("787.5").unwrap().fen(), 78750);
        assert_eq!(Money::parse("0.07").unwrap().to_string(), "0.07");
        assert_eq!(Money::parse("-3.20").unwrap().to_string(), "-3.20");
        assert_eq!(
            Money::parse("1.234"),
            Err(MoneyError::TooManyDecimals("1.234".into()))
        );
        assert!(matches!(
            Money::parse("abc"),
            Err(MoneyError::NotANumber(_))
        ));
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
    }

    #[test]
    fn json_never_goes_through_float() {
        let m: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(m.fen(), 10);
        let m: Money = serde_json::from_str("\"220175111.20\"").unwrap();
        assert_eq!(m.fen(), 22017511120);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"220175111.20\"");
        assert!(serde_json::from_str::<Money>("1.005").is_err());
    }
}
