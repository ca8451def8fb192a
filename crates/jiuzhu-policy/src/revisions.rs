//! Policy revisions applied on top of the policy files.
//!
//! Administrators change parameters through the product (not by editing the files in the binary):
//! each change is a stored, append-only [`PolicyRevision`] — a dated value for one parameter of
//! one region, with its document, number and article — and a `withdraw` revision takes back an
//! earlier one. The effective library is the files plus the revisions applied in `seq` order
//! ([`PolicyLibrary::with_revisions`]). A file touched by revisions is versioned
//! `<file version>+r<highest seq of its region>`, and its digest covers the revisions too, so a
//! stored result names exactly the values it was computed with.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::policy_revision::{PolicyRevision, RevisionKind};
use jiuzhu_domain::{DivisionCode, FieldError, Level};

use crate::caseload::parse_param_value;
use crate::error::PolicyError;
use crate::params::{
    convert, fnv64, param_def, Entry, Kind, ParamDef, PolicyFile, PolicyLibrary, Source, Value,
    PARAMS,
};

/// The text of a value in the notation of the policy files, as stored in a revision
/// (`850.00`, `0.3`, `60`, `true`, `gap`, `[{ income_below = "200.00", per_person = "500.00" }]`).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Money(m) => m.to_string(),
        Value::Decimal(d) => d.normalize().to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Choice(s) => s.clone(),
        Value::Tiers(t) => {
            let tiers: Vec<String> = t
                .iter()
                .map(|t| {
                    format!(
                        "{{ income_below = \"{}\", per_person = \"{}\" }}",
                        t.income_below, t.per_person
                    )
                })
                .collect();
            format!("[{}]", tiers.join(", "))
        }
    }
}

/// Parses a revision's value text for `param`. Errors name the field `value` (or `param` for an
/// unknown parameter) with a Chinese message that names the parameter.
pub fn parse_revision_value(param: &str, text: &str) -> Result<Value, FieldError> {
    let param = param.trim();
    let def = param_def(param).ok_or_else(|| {
        FieldError::new(
            "param",
            "PARAM_UNKNOWN",
            format!("参数:未知的政策参数“{param}”"),
        )
    })?;
    let mut t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new("value", "REQUIRED", "参数值:请填写"));
    }
    let label = def.label_zh;
    if def.kind == Kind::Tiers {
        let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {t}"));
        let v = parsed
            .ok()
            .and_then(|mut table| table.remove("v"))
            .ok_or_else(|| {
                FieldError::new(
                    "value",
                    "PARAM_VALUE",
                    format!(
                        "参数值({label}):应为分档列表,例如 [{{ income_below = \"200\", per_person = \"500\" }}]"
                    ),
                )
            })?;
        return convert(def.kind, &v)
            .map_err(|m| FieldError::new("value", "PARAM_VALUE", format!("参数值({label}):{m}")));
    }
    // The files quote money and decimals; accept the quotes here too.
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t = &t[1..t.len() - 1];
    }
    parse_param_value(def.name, t).map_err(|e| {
        let detail = e
            .message
            .strip_prefix(&format!("{}:", def.name))
            .unwrap_or(&e.message)
            .to_string();
        FieldError::new("value", e.code, format!("参数值({label}):{detail}"))
    })
}

/// A revision checked against the parameter definitions and the library, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRevision {
    pub region: DivisionCode,
    pub param: &'static str,
    pub effective_from: NaiveDate,
    pub value: Value,
    /// The value as stored (normalized notation, see [`value_text`]).
    pub text: String,
    /// The value in force for the region on `effective_from` before this revision, as text.
    pub previous: Option<String>,
}

/// Checks a revision entered in a form or sent to the API: the region (a division code of
/// county level or above that the library covers, or the nation), the parameter, the date
/// (`YYYY-MM-DD`) and the value (kind and range). Every problem is reported, each naming its
/// field (`region`, `param`, `effective_from`, `value`) in a Chinese message.
pub fn validate_revision(
    lib: &PolicyLibrary,
    region: &str,
    param: &str,
    effective_from: &str,
    value: &str,
) -> Result<ValidRevision, Vec<FieldError>> {
    let mut errors = Vec::new();
    let region_code = match DivisionCode::parse(region.trim()) {
        Ok(c) if c.level() > Level::County => {
            errors.push(FieldError::new(
                "region",
                "POLICY_REGION_LEVEL",
                format!(
                    "地区:政策地区须为全国、省、市或县级区划,{c} 是{}",
                    c.level().label_zh()
                ),
            ));
            None
        }
        Ok(c) if c.level() != Level::Nation && lib.for_region(&c).is_err() => {
            errors.push(FieldError::new(
                "region",
                "POLICY_UNKNOWN_REGION",
                format!("地区:{c} 不在任何政策文件的适用范围内"),
            ));
            None
        }
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(FieldError::new(
                "region",
                "REGION_INVALID",
                format!("地区:“{}”{}", region.trim(), e.message_zh()),
            ));
            None
        }
    };
    let date = match effective_from.trim() {
        "" => {
            errors.push(FieldError::new(
                "effective_from",
                "REQUIRED",
                "生效日期:请填写",
            ));
            None
        }
        t => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    "effective_from",
                    "DATE_INVALID",
                    format!("生效日期:“{t}”无效(格式:YYYY-MM-DD)"),
                ));
                None
            }
        },
    };
    let parsed = match param.trim() {
        "" => {
            errors.push(FieldError::new("param", "REQUIRED", "参数:请选择"));
            None
        }
        p => match parse_revision_value(p, value) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    match (region_code, date, parsed) {
        (Some(region), Some(effective_from), Some(value)) if errors.is_empty() => {
            let def = param_def(param.trim()).expect("checked by parse_revision_value");
            let previous = chain(lib, &region)
                .iter()
                .find_map(|f| f.in_force(def.name, effective_from))
                .map(|e| value_text(&e.value));
            Ok(ValidRevision {
                region,
                param: def.name,
                effective_from,
                text: value_text(&value),
                value,
                previous,
            })
        }
        _ => Err(errors),
    }
}

/// The files that apply to a region of county level or above (its own first), nation included.
fn chain(lib: &PolicyLibrary, region: &DivisionCode) -> Vec<Arc<PolicyFile>> {
    let mut codes = vec![region.clone()];
    codes.extend(region.ancestors());
    codes
        .iter()
        .filter_map(|c| lib.files.get(c.as_str()).cloned())
        .collect()
}

/// One parameter as seen from a region on a day: what is in force, what is scheduled, and the
/// region's own dated values (file values and applied revisions).
#[derive(Debug, Clone)]
pub struct ParamState {
    pub def: &'static ParamDef,
    /// The value in force on the day (from the region's file or an ancestor's).
    pub current: Option<Arc<Entry>>,
    /// Values that will be in force after the day, in date order (each only if it is what the
    /// region will see then, i.e. not shadowed by a more specific file).
    pub scheduled: Vec<Arc<Entry>>,
    /// The region's own file's values of this parameter, ascending by date.
    pub own: Vec<Arc<Entry>>,
}

impl PolicyLibrary {
    /// The highest revision applied to this library (0 for the policy files alone).
    pub fn revision_level(&self) -> i64 {
        self.revision
    }

    /// Every parameter as seen from `region` (county level or above) on `today`.
    pub fn param_states(&self, region: &DivisionCode, today: NaiveDate) -> Vec<ParamState> {
        let chain = chain(self, region);
        let own_file = chain.first().filter(|f| &f.region == region).cloned();
        PARAMS
            .iter()
            .map(|def| {
                let at = |d: NaiveDate| chain.iter().find_map(|f| f.in_force(def.name, d)).cloned();
                let dates: BTreeSet<NaiveDate> = chain
                    .iter()
                    .filter_map(|f| f.params.get(def.name))
                    .flatten()
                    .map(|e| e.from)
                    .filter(|d| *d > today)
                    .collect();
                let scheduled = dates
                    .into_iter()
                    .filter_map(|d| at(d).filter(|e| e.from == d))
                    .collect();
                ParamState {
                    def,
                    current: at(today),
                    scheduled,
                    own: own_file
                        .as_ref()
                        .and_then(|f| f.params.get(def.name).cloned())
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The library with stored revisions applied in `seq` order: each `set` revision gives its
    /// parameter a dated value in its region's file (a file is created for a region without
    /// one; a value on the same date as an existing one replaces it), unless a later `withdraw`
    /// revision names it. Every applied value cites the revision's document, number and article
    /// and notes the revision number, who recorded it and when. Errors name the revision.
    pub fn with_revisions(
        &self,
        revisions: &[PolicyRevision],
    ) -> Result<PolicyLibrary, Vec<PolicyError>> {
        let mut sorted: Vec<&PolicyRevision> = revisions.iter().collect();
        sorted.sort_by_key(|r| r.seq);
        let withdrawn: BTreeSet<i64> = sorted
            .iter()
            .filter(|r| r.kind == RevisionKind::Withdraw)
            .filter_map(|r| r.withdraws)
            .collect();
        let mut lib = self.clone();
        let mut errors = Vec::new();
        // Per touched region: the highest seq and the text its digest covers.
        let mut touched: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for r in &sorted {
            let key = r.region.to_string();
            let t = touched.entry(key.clone()).or_default();
            t.0 = t.0.max(r.seq);
            t.1.push_str(&format!(
                "\n{}|{}|{}|{}|{}|{}",
                r.seq,
                r.kind.as_str(),
                r.param,
                r.effective_from,
                r.value,
                r.withdraws.unwrap_or(0)
            ));
            lib.revision = lib.revision.max(r.seq);
            if r.kind != RevisionKind::Set || withdrawn.contains(&r.seq) {
                continue;
            }
            let file_name = format!("(revision r{})", r.seq);
            let invalid = |message: String| PolicyError::Invalid {
                file: file_name.clone(),
                line: 0,
                param: r.param.clone(),
                message,
            };
            if r.region.level() > Level::County {
                errors.push(invalid(format!("政策地区 {} 不是县级以上区划", r.region)));
                continue;
            }
            let value = match parse_revision_value(&r.param, &r.value) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(invalid(e.message));
                    continue;
                }
            };
            let def = param_def(&r.param).expect("checked by parse_revision_value");
            let mut file = match lib.files.get(&key) {
                Some(f) => (**f).clone(),
                None => PolicyFile {
                    file: Arc::from(format!("(revisions {key})")),
                    region: r.region.clone(),
                    name: key.clone(),
                    version: String::new(),
                    digest: String::new(),
                    params: BTreeMap::new(),
                },
            };
            let mut note = format!(
                "修订 r{}:{} 于 {} 录入",
                r.seq,
                r.user_name,
                r.recorded_on()
            );
            if !r.reason.trim().is_empty() {
                note.push_str(&format!(",原因:{}", r.reason.trim()));
            }
            let entry = Arc::new(Entry {
                param: def.name,
                region: key.clone(),
                region_name: file.name.clone(),
                file: Arc::from(file_name.as_str()),
                line: 0,
                from: r.effective_from,
                value,
                source: Arc::new(Source {
                    key: format!("r{}", r.seq),
                    title: r
                        .document
                        .clone()
                        .unwrap_or_else(|| format!("修订 r{}", r.seq)),
                    number: r.number.clone(),
                    issued: None,
                }),
                clause: r.article.clone(),
                note: Some(note),
            });
            let list = file.params.entry(def.name).or_default();
            list.retain(|e| e.from != r.effective_from);
            list.push(entry);
            list.sort_by_key(|e| e.from);
            lib.files.insert(key, Arc::new(file));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for (key, (level, text)) in touched {
            let Some(f) = lib.files.get(&key) else {
                // Only withdrawn values for a region without a file: nothing to version.
                continue;
            };
            let mut file = (**f).clone();
            let base = self.files.get(&key);
            let (version, digest) = match base {
                Some(b) => (b.version.clone(), b.digest.clone()),
                None => (String::new(), String::new()),
            };
            file.version = if version.is_empty() {
                format!("r{level}")
            } else {
                format!("{version}+r{level}")
            };
            file.digest = fnv64(&format!("{digest}{text}"));
            lib.files.insert(key, Arc::new(file));
        }
        Ok(lib)
    }
}
