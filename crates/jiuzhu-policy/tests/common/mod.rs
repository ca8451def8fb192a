#![allow(dead_code)]

use jiuzhu_domain::id_number::check_char;
use jiuzhu_policy::{calc_json, CalcError, CalcOutput, Month, PolicyLibrary, RawHousehold};
use serde_json::{json, Value};

pub fn lib() -> PolicyLibrary {
    PolicyLibrary::builtin().expect("shipped policies load")
}

/// A valid identity number for a birth date (YYYYMMDD) and sequence.
pub fn id(birth: &str, seq: u32) -> String {
    let body = format!("371002{birth}{seq:03}");
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!("{body}{}", check_char(&b))
}

/// A member born so that he or she is `age` on the first day of `month` (born 1 January).
pub fn member(age: u32, month: &str, seq: u32) -> Value {
    // Born on 1 January: the age on the first day of any month of `month`'s year.
    let year: u32 = month[..4].parse().unwrap();
    let birth_year = year - age;
    json!({ "id_number": id(&format!("{birth_year}0101"), seq), "relation": "spouse" })
}

pub fn household(region: &str, area: &str, mut members: Vec<Value>) -> Value {
    if let Some(first) = members.first_mut() {
        first["relation"] = json!("head");
    }
    json!({ "region": region, "area": area, "members": members })
}

pub fn run_with(
    lib: &PolicyLibrary,
    hh: &Value,
    month: &str,
) -> Result<CalcOutput<RawHousehold>, CalcError> {
    calc_json(lib, &hh.to_string(), Month::parse(month).unwrap())
}

pub fn run(hh: &Value, month: &str) -> CalcOutput<RawHousehold> {
    run_with(&lib(), hh, month).unwrap_or_else(|e| panic!("{}", e.message_zh()))
}

pub fn fen(s: &str) -> i64 {
    jiuzhu_domain::Money::parse(s).unwrap().fen()
}
