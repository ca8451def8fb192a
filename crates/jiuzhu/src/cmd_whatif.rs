//! `jiuzhu whatif --input caseload.json --month YYYY-MM --set PARAM=VALUE [--from DATE]
//! [--region CODE] [--text] [--policy-dir DIR]`: computes a month for a list of households under
//! the current policy and under a changed parameter (`jiuzhu_policy::what_if`) and prints the cost
//! difference and the households newly eligible and no longer eligible, in total and by township
//! (JSON, or Chinese text with `--text`). See docs/calc.md.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use chrono::NaiveDate;
use jiuzhu_domain::{Clock, DivisionCode, FieldError, Money};
use jiuzhu_policy::caseload::{Difference, Failed};
use jiuzhu_policy::params::{param_def, Kind, Source};
use jiuzhu_policy::{what_if, HouseholdInput, Month, PolicyLibrary, RawHousehold, Value};
use serde_json::json;

use crate::cmd_calc::{policy_errors, read_policy_dir};

#[derive(clap::Args, Debug)]
pub struct WhatIfArgs {
    /// The caseload: a JSON array of households in the calc input format (docs/calc.md), each
    /// with its township or village code as `region`; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The month to compute, YYYY-MM (default: the current month).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// The change: a policy parameter and its new value, e.g. `dibao.standard.urban=850`.
    /// May be given more than once (all changes apply together).
    #[arg(long = "set", value_name = "PARAM=VALUE", required = true)]
    pub set: Vec<String>,
    /// The date the changed values take effect (default: the first day of the month).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// The region whose policy file gets the change (default: the region whose file holds the
    /// value now in force for the caseload's households).
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// Print readable Chinese text instead of JSON.
    #[arg(long)]
    pub text: bool,
    /// Use the policy files (*.toml) of this directory instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
}

/// A parameter value written on the command line, converted to the parameter's kind.
fn parse_value(param: &str, text: &str) -> anyhow::Result<Value> {
    let def = param_def(param).ok_or_else(|| anyhow!("--set:未知的政策参数 {param}"))?;
    let t = text.trim();
    let bad = |what: &str| anyhow!("--set {param}:“{text}”不是{what}");
    Ok(match def.kind {
        Kind::Money => {
            let m = Money::parse(t).map_err(|e| anyhow!("--set {param}:{}", e.message_zh()))?;
            if m.is_negative() {
                return Err(bad("非负金额"));
            }
            Value::Money(m)
        }
        Kind::Dec { max } => {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(bad("非负小数"));
            }
            let d: rust_decimal::Decimal = t.parse().map_err(|_| bad("非负小数"))?;
            if d > rust_decimal::Decimal::from(max) {
                return Err(anyhow!("--set {param}:{t} 超过上限 {max}"));
            }
            Value::Decimal(d)
        }
        Kind::Int { min, max } => {
            let i: i64 = t.parse().map_err(|_| bad("整数"))?;
            if !(min..=max).contains(&i) {
                return Err(anyhow!("--set {param}:{i} 不在 {min}–{max} 之内"));
            }
            Value::Int(i)
        }
        Kind::Bool => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("true 或 false")),
        },
        Kind::Choice(words) => {
            if !words.contains(&t) {
                return Err(anyhow!(
                    "--set {param}:“{t}”不是可选值({})",
                    words.join(", ")
                ));
            }
            Value::Choice(t.to_string())
        }
        Kind::Tiers => bail!("--set {param}:分档参数请在政策文件中修改(--policy-dir)"),
    })
}

/// Reads the caseload; households whose input is invalid are returned as failures (with their
/// position in the file) and left out of the computation.
fn read_caseload(text: &str) -> anyhow::Result<(Vec<HouseholdInput>, Vec<usize>, Vec<Failed>)> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .context("the caseload must be a JSON array of calc inputs (docs/calc.md)")?;
    let mut households = Vec::new();
    let mut positions = Vec::new();
    let mut failed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let code = item.get("code").and_then(|c| c.as_str()).map(String::from);
        let parsed = RawHousehold::from_json(&item.to_string()).and_then(|raw| raw.validate());
        match parsed {
            Ok(mut hh) => {
                // Households without a number are named by their position in the file.
                hh.code.get_or_insert_with(|| format!("#{i}"));
                households.push(hh);
                positions.push(i);
            }
            Err(e) => failed.push(Failed {
                index: i,
                code,
                errors: e.0,
            }),
        }
    }
    Ok((households, positions, failed))
}

/// The region whose file holds the value in force for every household (the default of
/// `--region`).
fn default_region(
    lib: &PolicyLibrary,
    households: &[HouseholdInput],
    params: &[String],
    from: NaiveDate,
) -> anyhow::Result<DivisionCode> {
    let mut regions = BTreeSet::new();
    for hh in households {
        let Ok(set) = lib.for_region(&hh.region) else {
            continue; // reported as a failed household
        };
        for p in params {
            if let Ok(e) = set.entry(p, from) {
                regions.insert(e.region.clone());
            }
        }
    }
    match regions.len() {
        1 => {
            let r = regions.into_iter().next().unwrap_or_default();
            DivisionCode::parse(&r).map_err(|e| anyhow!("{r}: {}", e.message_zh()))
        }
        0 => bail!("--region:{from} 没有生效的参数值可调整,请用 --region 指定地区"),
        _ => bail!(
            "--region:参数值来自多个地区({}),请用 --region 指定调整哪个地区",
            regions.into_iter().collect::<Vec<_>>().join(", ")
        ),
    }
}

fn signed(m: Money) -> String {
    if m.is_negative() || m == Money::ZERO {
        m.to_string()
    } else {
        format!("+{m}")
    }
}

fn difference_line(d: &Difference) -> String {
    format!(
        "{} 户;现行 {} 元,调整后 {} 元,差额 {} 元;新增符合低保 {} 户,不再符合 {} 户",
        d.households,
        d.base_cost,
        d.new_cost,
        signed(d.cost_difference),
        d.newly_eligible,
        d.no_longer_eligible
    )
}

fn failure_line(f: &Failed) -> String {
    let errors: Vec<String> = f.errors.iter().map(FieldError::to_string).collect();
    format!(
        "第{}户{}:{}",
        f.index + 1,
        f.code
            .as_deref()
            .map(|c| format!("({c})"))
            .unwrap_or_default(),
        errors.join(";")
    )
}

pub fn run(args: &WhatIfArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let month = match &args.month {
        Some(m) => Month::parse(m).ok_or_else(|| anyhow!("--month:月份“{m}”应为 YYYY-MM"))?,
        None => Month::of(clock.today()),
    };
    let from = args.from.unwrap_or_else(|| month.first_day());
    let lib = match &args.policy_dir {
        Some(dir) => PolicyLibrary::from_texts(read_policy_dir(dir)?).map_err(policy_errors)?,
        None => PolicyLibrary::builtin().map_err(policy_errors)?,
    };
    let mut changes = Vec::new();
    for s in &args.set {
        let (param, value) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--set:“{s}”应为 参数=值,例如 dibao.standard.urban=850"))?;
        let param = param.trim().to_string();
        let parsed = parse_value(&param, value)?;
        changes.push((param, value.trim().to_string(), parsed));
    }
    let text = if args.input.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?
    };
    let (households, positions, mut failed) = read_caseload(&text)?;
    let region = match &args.region {
        Some(r) => DivisionCode::parse(r.trim())
            .map_err(|e| anyhow!("--region:“{r}”{}", e.message_zh()))?,
        None => {
            let params: Vec<String> = changes.iter().map(|c| c.0.clone()).collect();
            default_region(&lib, &households, &params, from)?
        }
    };
    let mut changed = lib.clone();
    for (param, _, value) in &changes {
        let source = Source {
            key: "what-if".into(),
            title: "假设调整(jiuzhu whatif)".into(),
            number: None,
            issued: None,
        };
        changed = changed
            .with_value(&region, param, from, value.clone(), source)
            .map_err(|e| anyhow!(e.message_zh()))?;
    }
    let mut report = what_if(&lib, &changed, &households, month);
    for f in &mut report.failed {
        f.index = positions.get(f.index).copied().unwrap_or(f.index);
    }
    failed.append(&mut report.failed);
    failed.sort_by_key(|f| f.index);
    report.failed = failed;

    if args.text {
        let change = changes
            .iter()
            .map(|(p, v, _)| format!("{p} = {v}"))
            .collect::<Vec<_>>()
            .join(",");
        println!("{month} 政策调整测算:{change}(地区 {region},自 {from} 起)");
        println!("合计:{}", difference_line(&report.total));
        println!();
        println!("按乡镇(街道):");
        for (township, d) in &report.by_township {
            println!("  {township}:{}", difference_line(d));
            if !d.newly_eligible_households.is_empty() {
                println!("    新增符合:{}", d.newly_eligible_households.join("、"));
            }
            if !d.no_longer_eligible_households.is_empty() {
                println!(
                    "    不再符合:{}",
                    d.no_longer_eligible_households.join("、")
                );
            }
        }
        if !report.failed.is_empty() {
            println!();
            println!("无法计算的家庭({} 户):", report.failed.len());
            for f in &report.failed {
                println!("  {}", failure_line(f));
            }
        }
    } else {
        let out = json!({
            "month": month,
            "change": changes.iter().map(|(p, v, _)| json!({
                "param": p, "value": v, "from": from, "region": region.to_string(),
            })).collect::<Vec<_>>(),
            "total": report.total,
            "by_township": report.by_township,
            "failed": report.failed,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
