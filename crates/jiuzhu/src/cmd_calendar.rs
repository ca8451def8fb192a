//! `jiuzhu calendar list | add-holiday | add-workday | remove | year`: the working-day calendar
//! of the database given by `--database` (the shipped file plus the stored edits), and edits
//! from the command line — the same check (the calendar must load with the edit), concurrency
//! and audit event as the `/calendar` page (docs/workflow.md).

use anyhow::{anyhow, bail};
use chrono::Datelike;
use jiuzhu_app::calendar::{special_days, EditInput};
use jiuzhu_app::params::build_calendar as build;
use jiuzhu_domain::access::ManageCalendar;
use jiuzhu_domain::Actor;

#[derive(clap::Subcommand, Debug)]
pub enum CalendarCommand {
    /// Covered years with their notices, the holidays and 调休 of a year, and the edits.
    List {
        /// The year whose days to list (default: this year).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Add a day off (放假), e.g. a local holiday.
    AddHoliday {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        reason: String,
        /// The newest edit this one is based on (`calendar list` prints it; 0 when none).
        #[arg(long)]
        expected_seq: Option<i64>,
    },
    /// Add a worked weekend day (调休上班).
    AddWorkday {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        reason: String,
        /// The newest edit this one is based on (`calendar list` prints it; 0 when none).
        #[arg(long)]
        expected_seq: Option<i64>,
    },
    /// Take a holiday or adjusted workday back to the Monday–Friday rule.
    Remove {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(long)]
        reason: String,
        /// The newest edit this one is based on (`calendar list` prints it; 0 when none).
        #[arg(long)]
        expected_seq: Option<i64>,
    },
    /// Enter a year's State Council notice from a file holding its `[[year]]` block.
    Year {
        year: i32,
        /// The calendar-format file with the year's block.
        #[arg(long)]
        file: std::path::PathBuf,
        #[arg(long)]
        reason: String,
        /// The newest edit this one is based on (`calendar list` prints it; 0 when none).
        #[arg(long)]
        expected_seq: Option<i64>,
    },
}

pub async fn run(
    cmd: &CalendarCommand,
    app: &jiuzhu_app::App,
    actor: &Actor,
) -> anyhow::Result<()> {
    let clock = app.clock().as_ref();
    let params = app.params().await?;
    // The command line acts for the nation: its calendar is the shipped file and the national
    // edits; a county's local holidays apply in that county only and are listed as such.
    let edits = &params.calendars.edits;
    let national = params.calendars.edits_in(actor.scope.root());
    let input =
        |kind: &str, date: &str, name: &str, reason: &str, expected: &Option<i64>| EditInput {
            kind: kind.into(),
            date: date.into(),
            name: name.into(),
            reason: reason.into(),
            expected_seq: *expected,
            ..EditInput::default()
        };
    let input = match cmd {
        CalendarCommand::List { year } => {
            let cal = build(&national, None).map_err(|e| anyhow!(e.message_zh()))?;
            for s in cal.sources() {
                println!(
                    "{}\t{}\t{}\t{}\t{}{}",
                    s.year,
                    s.notice,
                    s.number,
                    s.issued,
                    s.file,
                    if s.provisional { "\t暂定" } else { "" }
                );
            }
            println!(
                "最新调整序号 #{}(记录调整时以 --expected-seq 给出)",
                edits.last().map_or(0, |e| e.seq)
            );
            let year = year.unwrap_or_else(|| clock.today().year());
            println!("{year} 年:");
            for d in special_days(&cal, year) {
                println!("{}\t{}\t{}\t{}", d.date, d.kind_label, d.name, d.defined_at);
            }
            for e in edits {
                println!(
                    "#{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.seq,
                    e.kind.label_zh(),
                    e.date
                        .map(|d| d.to_string())
                        .or(e.year.map(|y| format!("{y}年")))
                        .unwrap_or_default(),
                    e.name,
                    e.reason,
                    e.user_name,
                    e.division
                        .as_ref()
                        .map_or("全国".to_string(), |d| format!("仅 {d}"))
                );
            }
            return Ok(());
        }
        CalendarCommand::AddHoliday {
            date,
            name,
            reason,
            expected_seq,
        } => input("add_holiday", date, name, reason, expected_seq),
        CalendarCommand::AddWorkday {
            date,
            name,
            reason,
            expected_seq,
        } => input("add_workday", date, name, reason, expected_seq),
        CalendarCommand::Remove {
            date,
            reason,
            expected_seq,
        } => input("remove", date, "", reason, expected_seq),
        CalendarCommand::Year {
            year,
            file,
            reason,
            expected_seq,
        } => EditInput {
            kind: "year".into(),
            year: Some(*year),
            text: crate::bounded_input::read_text(
                file,
                crate::bounded_input::TOML_FILE_BYTES,
                "日历文件",
            )?,
            reason: reason.clone(),
            expected_seq: *expected_seq,
            ..EditInput::default()
        },
    };
    // The concurrency check of the page: the operator says which edit this one is based on.
    if input.expected_seq.is_none() {
        bail!(
            "缺少 --expected-seq:请填写本次调整所依据的最新调整序号(见 jiuzhu calendar list;\
             尚无调整时为 0),以免覆盖他人同时所作的调整 (expected_seq is required)"
        );
    }
    let grant = actor.grant::<ManageCalendar>()?;
    let rec = match app.record_calendar_edit(&grant, &input).await {
        Ok(rec) => rec,
        Err(jiuzhu_app::Error::Invalid(fields)) => {
            for f in &fields {
                eprintln!("{}: {} ({})", f.field, f.message, f.code);
            }
            bail!("日历调整未记录 (the edit was refused)");
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "已记录调整#{}:{} {} {}",
        rec.seq,
        rec.kind.label_zh(),
        rec.date
            .map(|d| d.to_string())
            .or(rec.year.map(|y| format!("{y}年")))
            .unwrap_or_default(),
        rec.name
    );
    Ok(())
}
