//! `jiuzhu whatif --input caseload.json --month YYYY-MM --set PARAM=VALUE [--from DATE]
//! [--region CODE] [--text] [--policy-dir DIR]`: computes a month for a list of households under
//! the current policy and under a changed parameter (`jiuzhu_policy::run_what_if`, shared with the web what-if) and prints the cost
//! difference and the households newly eligible and no longer eligible, in total and by township
//! (JSON, or Chinese text with `--text`). See docs/calc.md.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use jiuzhu_domain::{Clock, DivisionCode, FieldError, Money};
use jiuzhu_policy::caseload::{Difference, Failed};
use jiuzhu_policy::{parse_change, run_what_if_read, Month, PolicyLibrary};

use crate::cmd_calc::{policy_errors, read_policy_dir};

#[derive(clap::Args, Debug)]
pub struct WhatIfArgs {
    /// The caseload: a JSON array of households in the calc input format (docs/calc.md), each
    /// with its township or village code as `region`; `-` reads standard input. Without it, the
    /// caseload is every household in the store (`--database`) with its economic record.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// With the store's caseload: only households of this division (and below).
    #[arg(long, value_name = "CODE")]
    pub division: Option<String>,
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

/// The caseload a what-if runs on: a file, or the store's households as of the month.
pub enum Caseload {
    File(PathBuf),
    Store(jiuzhu_policy::caseload::ReadCaseload),
}

/// `jiuzhu whatif` without `--input`: the store's caseload (all of it, as the CLI actor sees it)
/// as of the month's last day, not after today.
pub async fn run_on_store(
    args: &WhatIfArgs,
    app: &jiuzhu_app::App,
    actor: &jiuzhu_domain::Actor,
) -> anyhow::Result<()> {
    let clock = app.clock().as_ref();
    let month = month_of(args, clock)?;
    let division = match &args.division {
        Some(d) => Some(
            DivisionCode::parse(d.trim())
                .map_err(|e| anyhow!("--division:“{d}”{}", e.message_zh()))?,
        ),
        None => None,
    };
    let g = actor.grant::<jiuzhu_domain::access::ReadRegistry>()?;
    let as_of = month.as_of(clock.today());
    let caseload = jiuzhu_app::month::caseload(app, &g, division.as_ref(), as_of).await?;
    let stored = match &args.policy_dir {
        Some(_) => None,
        None => Some(app.params().await?.policies.as_ref().clone()),
    };
    run_with(args, clock, Caseload::Store(caseload.read), stored)
}

fn month_of(args: &WhatIfArgs, clock: &dyn Clock) -> anyhow::Result<Month> {
    Ok(match &args.month {
        Some(m) => Month::parse(m).ok_or_else(|| anyhow!("--month:月份“{m}”应为 YYYY-MM"))?,
        None => Month::of(clock.today()),
    })
}

pub fn run(args: &WhatIfArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let input = args
        .input
        .clone()
        .ok_or_else(|| anyhow!("--input is required without a database"))?;
    run_with(args, clock, Caseload::File(input), None)
}

/// `stored`: the library with the store's revisions, when the caseload comes from the store.
fn run_with(
    args: &WhatIfArgs,
    clock: &dyn Clock,
    caseload: Caseload,
    stored: Option<PolicyLibrary>,
) -> anyhow::Result<()> {
    let month = month_of(args, clock)?;
    let from = args.from.unwrap_or_else(|| month.first_day());
    let lib = match (&args.policy_dir, stored) {
        (Some(dir), _) => {
            PolicyLibrary::from_texts(read_policy_dir(dir)?).map_err(policy_errors)?
        }
        (None, Some(lib)) => lib,
        (None, None) => PolicyLibrary::builtin().map_err(policy_errors)?,
    };
    let mut changes = Vec::new();
    for s in &args.set {
        changes.push(parse_change(s, "--set").map_err(|e| anyhow!("--set:{}", e.message))?);
    }
    let read = match caseload {
        Caseload::Store(read) => read,
        Caseload::File(input) => {
            let text = crate::bounded_input::read_text(
                &input,
                crate::bounded_input::WHATIF_CASELOAD_BYTES,
                "测算对象文件",
            )?;
            let items: Vec<serde_json::Value> = serde_json::from_str(&text)
                .context("the caseload must be a JSON array of calc inputs (docs/calc.md)")?;
            jiuzhu_policy::caseload::read_caseload(&items)
        }
    };
    let region = match &args.region {
        Some(r) => Some(
            DivisionCode::parse(r.trim())
                .map_err(|e| anyhow!("--region:“{r}”{}", e.message_zh()))?,
        ),
        None => None,
    };
    let report = run_what_if_read(&lib, read, &changes, month, from, region).map_err(|e| {
        let flag = if e.field == "region" {
            "--region"
        } else {
            "--set"
        };
        anyhow!("{flag}:{}", e.message)
    })?;

    if args.text {
        let change = changes
            .iter()
            .map(|c| format!("{} = {}", c.param, c.text))
            .collect::<Vec<_>>()
            .join(",");
        let region = report
            .change
            .first()
            .map(|c| c.region.clone())
            .unwrap_or_default();
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
        let out = &report;
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
