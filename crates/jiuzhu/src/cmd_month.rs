//! `jiuzhu month --month YYYY-MM [--division CODE] [--json] [--policy-dir DIR]`: computes the
//! month for every household in the store (as of the month's last day, not after today) with its
//! economic record, and prints the totals, the table by township and the households that could
//! not be computed (e.g. 缺少经济状况信息). See docs/calc.md.

use std::path::PathBuf;

use anyhow::anyhow;
use jiuzhu_app::{month, App};
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode, FieldError};
use jiuzhu_policy::caseload::Totals;
use jiuzhu_policy::{Month, PolicyLibrary};

use crate::cmd_calc::{policy_errors, read_policy_dir};

#[derive(clap::Args, Debug)]
pub struct MonthArgs {
    /// The month to compute, YYYY-MM (default: the current month).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Only households of this division (and below).
    #[arg(long, value_name = "CODE")]
    pub division: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Use the policy files (*.toml) of this directory instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
}

/// Failed households listed in the text output; the rest are only counted.
const FAILED_SHOWN: usize = 10;

pub fn library(dir: Option<&PathBuf>) -> anyhow::Result<PolicyLibrary> {
    match dir {
        Some(dir) => PolicyLibrary::from_texts(read_policy_dir(dir)?).map_err(policy_errors),
        None => PolicyLibrary::builtin().map_err(policy_errors),
    }
}

fn totals_line(t: &Totals) -> String {
    format!(
        "{} 户;低保 {} 户 {} 人,基本低保金 {} 元,分类施保 {} 元,低保合计 {} 元;特困供养 {} 元;合计 {} 元",
        t.households,
        t.dibao_households,
        t.dibao_persons,
        t.dibao_base,
        t.dibao_supplements,
        t.dibao,
        t.tekun,
        t.total
    )
}

pub async fn run(args: &MonthArgs, app: &App, actor: &Actor) -> anyhow::Result<()> {
    let month = match &args.month {
        Some(m) => Month::parse(m).ok_or_else(|| anyhow!("--month:月份“{m}”应为 YYYY-MM"))?,
        None => Month::of(app.today()),
    };
    let division = match &args.division {
        Some(d) => Some(
            DivisionCode::parse(d.trim())
                .map_err(|e| anyhow!("--division:“{d}”{}", e.message_zh()))?,
        ),
        None => None,
    };
    // The store's revisions apply unless a policy directory replaces the shipped files.
    let g = actor.grant::<ReadRegistry>()?;
    let report = match &args.policy_dir {
        Some(_) => {
            let lib = library(args.policy_dir.as_ref())?;
            month::report_with_policies(app, &g, &lib, month, division.as_ref()).await?
        }
        None => month::report(app, &g, month, division.as_ref()).await?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let names = month::township_names(app, &g).await?;
    println!(
        "{month} 月度测算(在册家庭,登记信息截至 {}{})",
        report.as_of,
        division
            .as_ref()
            .map(|d| format!(",区划 {d}"))
            .unwrap_or_default()
    );
    println!("合计:{}", totals_line(&report.totals));
    println!();
    println!("按乡镇(街道):");
    for (township, t) in &report.by_township {
        let name = names.get(township).map(String::as_str).unwrap_or("");
        println!("  {township} {name}:{}", totals_line(t));
    }
    if !report.failed.is_empty() {
        println!();
        println!("无法计算的家庭:{} 户", report.failed.len());
        for f in report.failed.iter().take(FAILED_SHOWN) {
            let errors: Vec<String> = f.errors.iter().map(FieldError::to_string).collect();
            println!("  {}(id {}):{}", f.code, f.household_id, errors.join(";"));
        }
        if report.failed.len() > FAILED_SHOWN {
            println!("  ……另有 {} 户", report.failed.len() - FAILED_SHOWN);
        }
    }
    Ok(())
}
