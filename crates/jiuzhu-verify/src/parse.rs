//! Byte-level field parsers for the hot path: no allocation, each field becomes one `i64`.
//! A failure is a [`Fault`] (a machine code); the Chinese reason is built only for reported rows.

use jiuzhu_domain::id_number::mask_id_str;

use crate::schema::ColumnType;

/// A quoted number masked; a quote cut short keeps its `…`, so the reader still sees it was cut.
fn masked(text: &str) -> String {
    match text.strip_suffix('…') {
        Some(head) => format!("{}…", mask_id_str(head)),
        None => mask_id_str(text),
    }
}

/// Why a field (or a row) is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Empty,
    ColumnCount { expected: usize, found: usize },
    IdLength(usize),
    IdCharacter(usize),
    IdBirthDate,
    IdCheckDigit,
    BadDate,
    BadMonth,
    NotANumber,
    TooManyDecimals,
    Negative,
    OutOfRange,
    UnknownCode,
    NotUtf8,
    LineTooLong,
}

impl Fault {
    pub fn code(self) -> &'static str {
        match self {
            Fault::Empty => "FIELD_EMPTY",
            Fault::ColumnCount { .. } => "COLUMN_COUNT",
            Fault::IdLength(_) => "ID_LENGTH",
            Fault::IdCharacter(_) => "ID_CHARACTER",
            Fault::IdBirthDate => "ID_BIRTH_DATE",
            Fault::IdCheckDigit => "ID_CHECK_DIGIT",
            Fault::BadDate => "DATE_INVALID",
            Fault::BadMonth => "MONTH_INVALID",
            Fault::NotANumber => "MONEY_NOT_A_NUMBER",
            Fault::TooManyDecimals => "MONEY_TOO_MANY_DECIMALS",
            Fault::Negative => "AMOUNT_NEGATIVE",
            Fault::OutOfRange => "AMOUNT_OUT_OF_RANGE",
            Fault::UnknownCode => "CODE_UNKNOWN",
            Fault::NotUtf8 => "NOT_UTF8",
            Fault::LineTooLong => "LINE_TOO_LONG",
        }
    }

    /// The reason in Chinese, citing the offending text.
    pub fn message_zh(self, text: &str) -> String {
        match self {
            Fault::Empty => "必填项为空".into(),
            Fault::ColumnCount { expected, found } => {
                format!("列数不符:应为{expected}列,实际为{found}列")
            }
            // A rejected number is still nearly someone's number: it is quoted masked, as
            // pages show numbers, to everyone who reads the rejected rows.
            Fault::IdLength(n) => format!("身份证号码“{}”应为18位,实际为{n}位", masked(text)),
            Fault::IdCharacter(p) => format!("身份证号码“{}”第{p}位含非法字符", masked(text)),
            Fault::IdBirthDate => format!("身份证号码“{}”中的出生日期无效", masked(text)),
            Fault::IdCheckDigit => format!("身份证号码“{}”校验码错误", masked(text)),
            Fault::BadDate => format!("日期“{text}”无效,应为YYYY-MM-DD"),
            Fault::BadMonth => format!("月份“{text}”无效,应为YYYY-MM"),
            Fault::NotANumber => format!("金额“{text}”不是数字"),
            Fault::TooManyDecimals => format!("金额“{text}”超过两位小数"),
            Fault::Negative => format!("数值“{text}”不能为负数"),
            Fault::OutOfRange => format!("数值“{text}”超出范围"),
            Fault::UnknownCode => format!("取值“{text}”不在代码表中"),
            Fault::NotUtf8 => "内容不是UTF-8编码".into(),
            Fault::LineTooLong => format!(
                "本行超过{},未读取",
                jiuzhu_sheet::limits::bytes_zh(crate::ingest::MAX_LINE_BYTES as u64)
            ),
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// Validates an 18-character identity number (digits, birth date, check digit) and returns its
/// key: the 17-digit body as an integer (the check character follows from it).
#[inline]
pub fn id_key(b: &[u8]) -> Result<u64, Fault> {
    if b.len() != 18 {
        return Err(Fault::IdLength(
            std::str::from_utf8(b).map_or(b.len(), |s| s.chars().count()),
        ));
    }
    let b: &[u8; 18] = b.try_into().expect("length checked");
    let (hi, lo) = (load8(&b[0..8]), load8(&b[8..16]));
    if !all_digits(hi) || !all_digits(lo) || !b[16].is_ascii_digit() {
        let p = b[..17]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(16);
        return Err(Fault::IdCharacter(p + 1));
    }
    let key = digits8(hi) * 1_000_000_000 + digits8(lo) * 10 + u64::from(b[16] - b'0');
    // Fixed-length weighted sum over known digits: the compiler unrolls and vectorises it.
    let mut sum: u32 = 0;
    for i in 0..17 {
        sum += u32::from(b[i] - b'0') * WEIGHTS[i];
    }
    let c = b[17];
    let c = if c == b'x' { b'X' } else { c };
    if !(c.is_ascii_digit() || c == b'X') {
        return Err(Fault::IdCharacter(18));
    }
    // Birth date yyyymmdd: characters 7..14.
    let y = digits4(&b[6..10]);
    if y < 1800 || !valid_date(y, digits2(&b[10..12]), digits2(&b[12..14])) {
        return Err(Fault::IdBirthDate);
    }
    if c != CHECK[(sum % 11) as usize] {
        return Err(Fault::IdCheckDigit);
    }
    Ok(key)
}

/// Known ASCII digits to a number.
#[inline]
fn digits2(b: &[u8]) -> u32 {
    u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0')
}
#[inline]
fn digits4(b: &[u8]) -> u32 {
    digits2(&b[0..2]) * 100 + digits2(&b[2..4])
}

#[inline]
fn load8(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("8 bytes"))
}

/// Each of the 8 bytes is an ASCII digit: high nibble 3, and still 3 after adding 6.
#[inline]
fn all_digits(x: u64) -> bool {
    const HI: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    (x & HI) == THREES && (x.wrapping_add(0x0606_0606_0606_0606) & HI) == THREES
}

/// The value of 8 ASCII digits loaded little-endian (first character in the lowest byte).
#[inline]
fn digits8(x: u64) -> u64 {
    let x = x & 0x0F0F_0F0F_0F0F_0F0F;
    let x = (x.wrapping_mul(10 * 256 + 1)) >> 8;
    let x = ((x & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65536 + 1)) >> 16;
    ((x & 0x0000_FFFF_0000_FFFF).wrapping_mul(10000 * (1 << 32) + 1)) >> 32
}

/// The 18 characters of the identity number with this key.
pub fn id_from_key(key: u64) -> [u8; 18] {
    let mut out = [0u8; 18];
    let mut k = key;
    let mut sum = 0u32;
    for i in (0..17).rev() {
        out[i] = b'0' + (k % 10) as u8;
        k /= 10;
    }
    for i in 0..17 {
        sum += u32::from(out[i] - b'0') * WEIGHTS[i];
    }
    out[17] = CHECK[(sum % 11) as usize];
    out
}

pub(crate) fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

#[inline]
fn valid_date(y: u32, m: u32, d: u32) -> bool {
    const DAYS: [u8; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    // The common case needs no leap-year arithmetic: only 29 February does.
    (1..=12).contains(&m)
        && d >= 1
        && d <= u32::from(DAYS[m as usize])
        && (m != 2 || d != 29 || days_in_month(y, 2) == 29)
}

#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` → `yyyymmdd`.
#[inline]
pub fn date(b: &[u8]) -> Result<u32, Fault> {
    let (y, m, d) = match b.len() {
        10 if (b[4] == b'-' && b[7] == b'-') || (b[4] == b'/' && b[7] == b'/') => {
            (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
        }
        8 => (digits(&b[0..4]), digits(&b[4..6]), digits(&b[6..8])),
        _ => return Err(Fault::BadDate),
    };
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) if y >= 1800 && valid_date(y, m, d) => {
            Ok(y * 10000 + m * 100 + d)
        }
        _ => Err(Fault::BadDate),
    }
}

/// `YYYY-MM` or `YYYYMM` → `yyyymm`.
#[inline]
pub fn month(b: &[u8]) -> Result<u32, Fault> {
    let (y, m) = match b.len() {
        7 if b[4] == b'-' || b[4] == b'/' => (digits(&b[0..4]), digits(&b[5..7])),
        6 => (digits(&b[0..4]), digits(&b[4..6])),
        _ => return Err(Fault::BadMonth),
    };
    match (y, m) {
        (Some(y), Some(m)) if y >= 1800 && (1..=12).contains(&m) => Ok(y * 100 + m),
        _ => Err(Fault::BadMonth),
    }
}

/// Yuan with at most two decimals → fen, exactly. A leading `-` is allowed (refunds).
#[inline]
pub fn fen(b: &[u8]) -> Result<i64, Fault> {
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut int: i64 = 0;
    let mut i = 0;
    while i < b.len() {
        let d = b[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i >= 15 {
            return Err(Fault::OutOfRange);
        }
        int = int * 10 + i64::from(d);
        i += 1;
    }
    let int_digits = i;
    let mut frac: i64 = 0;
    let mut frac_digits = 0;
    if i < b.len() {
        if b[i] != b'.' {
            return Err(Fault::NotANumber);
        }
        i += 1;
        while i < b.len() {
            let d = b[i].wrapping_sub(b'0');
            if d > 9 {
                return Err(Fault::NotANumber);
            }
            // Only two digits can be kept (more are refused below); accumulating all of them
            // would overflow after eighteen.
            if frac_digits < 2 {
                frac = frac * 10 + i64::from(d);
            }
            frac_digits += 1;
            i += 1;
        }
        if frac_digits > 2 {
            return Err(Fault::TooManyDecimals);
        }
    }
    if int_digits + frac_digits == 0 {
        return Err(Fault::NotANumber);
    }
    if frac_digits == 1 {
        frac *= 10;
    }
    let v = int * 100 + frac;
    Ok(if neg { -v } else { v })
}

/// Index of `b` in the code table, matching the code or the Chinese label.
#[inline]
pub fn code(table: &[(&str, &str)], b: &[u8]) -> Result<i64, Fault> {
    for (i, (c, zh)) in table.iter().enumerate() {
        let (c, zh) = (c.as_bytes(), zh.as_bytes());
        // Length and first byte settle most mismatches without a memcmp call.
        if (c.len() == b.len() && c[0] == b[0] && c == b)
            || (zh.len() == b.len() && zh[0] == b[0] && zh == b)
        {
            return Ok(i as i64);
        }
    }
    Err(Fault::UnknownCode)
}

/// Parses one non-empty field by type. Ids yield their key; text yields 0.
#[inline]
pub fn field(ty: ColumnType, b: &[u8]) -> Result<i64, Fault> {
    match ty {
        ColumnType::IdNumber => id_key(b).map(|k| k as i64),
        ColumnType::Date => date(b).map(i64::from),
        ColumnType::Month => month(b).map(i64::from),
        // No delivered amount is negative: a balance, a cost or a wage below zero is an error
        // of the department's export (a reversal is a correction the department makes).
        ColumnType::Money | ColumnType::Decimal2 => match fen(b) {
            Ok(v) if v < 0 => Err(Fault::Negative),
            r => r,
        },
        ColumnType::Code(t) => code(t, b),
        ColumnType::Text => {
            if !b.is_ascii() && std::str::from_utf8(b).is_err() {
                Err(Fault::NotUtf8)
            } else {
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let k = id_key(b"11010519491231002X").unwrap();
        assert_eq!(&id_from_key(k), b"11010519491231002X");
        assert_eq!(id_key(b"11010519491231002x"), Ok(k));
        assert_eq!(id_key(b"110105194912310021"), Err(Fault::IdCheckDigit));
        assert_eq!(id_key(b"110105194913310021"), Err(Fault::IdBirthDate));
        assert_eq!(id_key(b"1101051949123100"), Err(Fault::IdLength(16)));
        assert_eq!(id_key(b"11010519491231A02X"), Err(Fault::IdCharacter(15)));
        assert_eq!(id_key(b"1101051949123100:X"), Err(Fault::IdCharacter(17)));
        assert_eq!(id_key(b"/10105194912310021"), Err(Fault::IdCharacter(1)));
        for n in [
            0u64,
            1,
            12345678901234567,
            99999999999999999,
            37100219800101000,
        ] {
            let chars = id_from_key(n);
            let mut expect = 0u64;
            for c in &chars[..17] {
                expect = expect * 10 + u64::from(c - b'0');
            }
            assert_eq!(expect, n);
            assert_eq!(digits8(load8(&chars[0..8])), n / 1_000_000_000);
        }
    }

    #[test]
    fn money_and_dates() {
        assert_eq!(fen(b"30000.00"), Ok(3_000_000));
        assert_eq!(fen(b"0.5"), Ok(50));
        assert_eq!(fen(b"12"), Ok(1200));
        assert_eq!(fen(b"-3.20"), Ok(-320));
        // … but no delivered amount may be negative (a −900.00 medical cost was accepted).
        assert_eq!(field(ColumnType::Money, b"-900.00"), Err(Fault::Negative));
        assert_eq!(field(ColumnType::Money, b"0.00"), Ok(0));
        assert_eq!(fen(b"1.005"), Err(Fault::TooManyDecimals));
        // 19 fraction digits once overflowed the accumulator (a panic with overflow checks).
        assert_eq!(fen(b"0.9999999999999999999"), Err(Fault::TooManyDecimals));
        assert_eq!(fen(b".55555555555555555002"), Err(Fault::TooManyDecimals));
        assert_eq!(fen(b"1.99999999999999999999x"), Err(Fault::NotANumber));
        assert_eq!(fen(b"1,000"), Err(Fault::NotANumber));
        assert_eq!(fen(b"."), Err(Fault::NotANumber));
        assert_eq!(date(b"2024-02-29"), Ok(20240229));
        assert_eq!(date(b"2023-02-29"), Err(Fault::BadDate));
        assert_eq!(date(b"2024/06/30"), Ok(20240630));
        assert_eq!(date(b"20240630"), Ok(20240630));
        assert_eq!(month(b"2024-06"), Ok(202406));
        assert_eq!(month(b"2024-13"), Err(Fault::BadMonth));
    }
}
