//! `jiuzhu calc --input household.json [--month YYYY-MM] [--text] [--policy-dir DIR]`: computes one
//! household for one month with the policy engine and prints the result with its explanation as
//! JSON (docs/calc.md), or as readable Chinese text with `--text`.

use crate::bounded_input;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use jiuzhu_domain::Clock;
use jiuzhu_policy::{calc_json, render_text_zh, Month, PolicyLibrary};

#[derive(clap::Args, Debug)]
pub struct CalcArgs {
    /// The household as JSON (see docs/calc.md); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The month to compute, YYYY-MM (default: the current month).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Print readable Chinese text instead of JSON.
    #[arg(long)]
    pub text: bool,
    /// Use the policy files (*.toml) of this directory instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
}

/// Reads every `*.toml` file of a directory, in name order, as (file name, text).
pub(crate) fn read_policy_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading policy directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .take(bounded_input::POLICY_DIR_FILES + 1)
        .collect();
    if paths.len() > bounded_input::POLICY_DIR_FILES {
        return Err(anyhow!(
            "政策目录 {} 中的政策文件超过 {} 个",
            dir.display(),
            bounded_input::POLICY_DIR_FILES
        ));
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = bounded_input::read_text(&p, bounded_input::TOML_FILE_BYTES, "政策文件")?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

pub(crate) fn policy_errors(errors: Vec<jiuzhu_policy::PolicyError>) -> anyhow::Error {
    anyhow!(errors
        .iter()
        .map(|e| e.message_zh())
        .collect::<Vec<_>>()
        .join("\n"))
}

pub fn run(args: &CalcArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let month = match &args.month {
        Some(m) => Month::parse(m).ok_or_else(|| anyhow!("--month:月份“{m}”应为 YYYY-MM"))?,
        None => Month::of(clock.today()),
    };
    let lib = match &args.policy_dir {
        Some(dir) => PolicyLibrary::from_texts(read_policy_dir(dir)?).map_err(policy_errors)?,
        None => PolicyLibrary::builtin().map_err(policy_errors)?,
    };
    let input = bounded_input::read_text(&args.input, bounded_input::CALC_INPUT_BYTES, "计算输入")?;
    let out = calc_json(&lib, &input, month).map_err(|e| anyhow!(e.message_zh()))?;
    if args.text {
        print!(
            "{}",
            render_text_zh(&out.result, &out.explanation, &out.policy)
        );
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
