//! `jiuzhu`: the one binary. Subcommands start the web platform, seed a demo county, import legacy
//! caseloads and jurisdiction trees, manage users, verify the audit chain and compute benefits.

mod bounded_input;
mod cmd_audit;
mod cmd_calc;
mod cmd_calendar;
mod cmd_data_key;
mod cmd_month;
mod cmd_policy;
mod cmd_serve;
mod cmd_verify;
mod cmd_whatif;
mod demo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use cmd_audit::Out;
use jiuzhu_domain::access::{ImportCaseload, ManageDivisions, ManageUsers, ReadUsers};
use jiuzhu_domain::{Actor, Clock, DivisionCode, Role, SystemClock, ValidationErrors};
use jiuzhu_store::audit_seal::SealPaths;

#[derive(Parser, Debug)]
#[command(
    name = "jiuzhu",
    version,
    about = "救助 — 社会救助信息平台 (social-assistance platform)"
)]
struct Cli {
    /// Database URL: `sqlite://PATH` (created if missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        global = true,
        env = "JIUZHU_DATABASE",
        default_value = "sqlite://data/jiuzhu.sqlite"
    )]
    database: String,

    /// Where delivered data files are kept (`<data-dir>/feeds/<sha256>.csv`); default: the
    /// directory of the SQLite file.
    #[arg(long, global = true, env = "JIUZHU_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// The audit signing key (SM2, PEM, mode 0600), kept outside the database; its public half
    /// is the same name with `.pub`. Default: `audit-signing.key` in the data directory.
    #[arg(long, global = true, env = "JIUZHU_AUDIT_KEY")]
    audit_key: Option<PathBuf>,

    /// The file of signed audit checkpoints. Default: `audit-checkpoints.jsonl` in the data
    /// directory.
    #[arg(long, global = true, env = "JIUZHU_AUDIT_CHECKPOINTS")]
    audit_checkpoints: Option<PathBuf>,

    /// The data encryption key file (SM4 keys and the blind-index key, mode 0600), kept outside
    /// the database; created on the first start. Default: `data-encryption.key` in the data
    /// directory.
    #[arg(long, global = true, env = "JIUZHU_DATA_KEY")]
    data_key: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the web platform.
    Serve(cmd_serve::ServeArgs),
    /// Seed the synthetic demo county (jurisdiction tree, ~5,000 households, one user per role).
    Demo,
    /// Import data from spreadsheets (CSV or xlsx).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log: verify, checkpoint, export, verify-export (docs/security.md).
    #[command(subcommand)]
    Audit(cmd_audit::AuditCommand),
    /// Compute a household's benefits with the policy engine and explain them.
    Calc(cmd_calc::CalcArgs),
    /// What-if: a caseload under the current policy and under a changed parameter — the cost
    /// difference and the households newly eligible / no longer eligible, by township.
    #[command(name = "whatif")]
    WhatIf(cmd_whatif::WhatIfArgs),
    /// A month for every household in the store (with its economic record): totals, by
    /// township, and the households that could not be computed.
    Month(cmd_month::MonthArgs),
    /// Policy parameters of this database (files + revisions): list, show, set, withdraw.
    #[command(subcommand)]
    Policy(cmd_policy::PolicyCommand),
    /// The working-day calendar of this database (shipped file + edits): list, add-holiday,
    /// add-workday, remove, year.
    #[command(subcommand)]
    Calendar(cmd_calendar::CalendarCommand),
    /// Economic-status verification: the monthly comparison (一月一比对).
    #[command(subcommand)]
    Verify(cmd_verify::VerifyCommand),
    /// The data encryption key (docs/security.md): rotate.
    #[command(subcommand)]
    DataKey(cmd_data_key::DataKeyCommand),
    /// Set a county's decision-letter number prefix (e.g. `371002 环民救` gives
    /// 环民救〔2026〕12号); without one the first character of the county's name + 民救 is used.
    LetterPrefix {
        /// The county's six-digit division code.
        county: String,
        prefix: String,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// A legacy caseload: households file and members file (formats in docs/import.md).
    /// All-or-nothing: every rejected row is reported and nothing is written.
    Caseload {
        households: PathBuf,
        members: PathBuf,
        /// Date the imported records are valid from (default: today).
        #[arg(long)]
        valid_from: Option<chrono::NaiveDate>,
        /// Create township/village nodes missing from the tree (named by code) instead of
        /// rejecting the rows that use them.
        #[arg(long)]
        create_missing_divisions: bool,
    },
    /// Jurisdiction nodes: a file with columns code,name.
    Divisions { file: PathBuf },
    /// A department's data delivery (formats in docs/feeds.md): kept by its SHA-256, recorded
    /// with its provenance; bad rows reported; exits 2 when the source's policy refuses it.
    Feed(cmd_verify::FeedArgs),
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an administrator (三员分立: bootstrap and recovery at the server); prints a
    /// one-time password that must be changed at first login. Created here, it is approved.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// system_admin | security_admin | audit_admin. Business accounts are created by the
        /// system administrator on the web and approved by a security administrator.
        #[arg(long)]
        role: String,
        /// The jurisdiction node the user is bound to (division code; 000000 for the nation).
        #[arg(long)]
        division: String,
    },
    /// List users.
    List,
    /// Set a new one-time password for an administrator (and unlock the account); it stays
    /// approved, so that a lost last security administrator can be recovered.
    ResetPassword { username: String },
}

fn main() -> ExitCode {
    // Whatever the process creates is the service account's alone (docs/security.md).
    jiuzhu_store::private_fs::restrict_umask();
    init_tracing();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误: 无法启动运行时: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("JIUZHU_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("JIUZHU_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Database URLs may carry passwords; never print them.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// A clock whose date was set at start-up (`serve --today`): the time of day runs on from the
/// real clock, so timestamps stay ordered while every date the procedure sees is the chosen one.
struct ShiftedClock(chrono::Duration);

impl Clock for ShiftedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

fn shifted_clock(today: chrono::NaiveDate) -> ShiftedClock {
    let real = SystemClock.today();
    ShiftedClock(today.signed_duration_since(real))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock: Arc<dyn Clock> = match &cli.command {
        Command::Serve(cmd_serve::ServeArgs {
            today: Some(day), ..
        }) => {
            eprintln!(
                "警告 (warning): 日期已固定为 {day}(--today),仅用于演示、培训和测试;\
                 期限与决定均按此日期计算 (the clock's date is fixed at {day}; never use in production)"
            );
            Arc::new(shifted_clock(*day))
        }
        _ => Arc::new(SystemClock),
    };
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(|| jiuzhu_store::kept::FeedFiles::default_dir(&cli.database));
    let seal_paths = SealPaths::new(
        &data_dir,
        cli.audit_key.clone(),
        cli.audit_checkpoints.clone(),
    );
    let data_key = cli
        .data_key
        .clone()
        .unwrap_or_else(|| data_dir.join(jiuzhu_store::data_key::DATA_KEY_FILE));
    match &cli.command {
        Command::Calc(args) => {
            cmd_calc::run(args, clock.as_ref())?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::WhatIf(args) if args.input.is_some() => {
            cmd_whatif::run(args, clock.as_ref())?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Audit(cmd_audit::AuditCommand::VerifyExport { file, public_key }) => {
            let public_key = public_key.as_deref().unwrap_or(&seal_paths.public_key);
            return Ok(cmd_audit::verify_export_file(file, public_key));
        }
        Command::DataKey(cmd_data_key::DataKeyCommand::Rotate) => {
            cmd_data_key::rotate(&cli.database, clock, &data_key).await?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    // serve and demo print beside the accounts; other commands' stdout is their result.
    let out = match &cli.command {
        Command::Serve(_) | Command::Demo => Out::Stdout,
        _ => Out::Stderr,
    };
    let store = cmd_data_key::open_store(&cli.database, clock.clone(), &data_key, out).await?;
    // The use-cases every command below calls, as the web does.
    let app = jiuzhu_app::App::builder(store.clone(), clock.clone())
        .feeds_dir(&data_dir)
        .build()?;
    match cli.command {
        Command::Serve(args) => {
            let paths = cmd_serve::Paths {
                database: &cli.database,
                data_dir: &data_dir,
                seal: &seal_paths,
                data_key: &data_key,
            };
            cmd_serve::run(args, &app, &paths).await
        }
        Command::Demo => {
            let seal =
                cmd_audit::open_creating(&app, &seal_paths, &Actor::system("demo"), Out::Stdout)
                    .await?;
            demo::seed_if_needed(&app).await?;
            demo::seed_cases(&app).await?;
            demo::seed_verification(&app).await?;
            demo::print_accounts();
            app.audit_checkpoint(&seal).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(cmd) => cmd_audit::run(cmd, &app, &seal_paths).await,
        command => {
            // Commands that write events checkpoint them at their exit, failed or not.
            let before = app.chain_head().await?;
            let result = store_command(command, &app).await;
            cmd_audit::checkpoint_at_exit(&app, &seal_paths, &before).await;
            result
        }
    }
}

/// The commands that work on the store, apart from `serve`, `demo` and `audit`.
async fn store_command(command: Command, app: &jiuzhu_app::App) -> anyhow::Result<ExitCode> {
    let store = app.store();
    let cli_actor = Actor::system("cli");
    match command {
        Command::Import(ImportCommand::Caseload {
            households,
            members,
            valid_from,
            create_missing_divisions,
        }) => {
            let started = Instant::now();
            let files = jiuzhu_app::registry::CaseloadFiles {
                households: read_input(&households)?,
                members: read_input(&members)?,
                valid_from: valid_from.unwrap_or_else(|| app.today()),
                create_missing_divisions,
                limits: jiuzhu_import::caseload::Limits::COMMAND_LINE,
            };
            let parsed = |batch: &jiuzhu_domain::caseload::CaseloadBatch| {
                eprintln!(
                    "已校验 {} 户、{} 人,用时 {:.1} 秒;开始写入…",
                    batch.households.len(),
                    batch.members.len(),
                    started.elapsed().as_secs_f64()
                );
            };
            let grant = cli_actor.grant::<ImportCaseload>()?;
            let last = std::sync::atomic::AtomicU64::new(0);
            let progress = |done: u64, total: u64| {
                let pct = (done * 100).checked_div(total).unwrap_or(100);
                if pct >= last.load(std::sync::atomic::Ordering::Relaxed) + 10 || done == total {
                    last.store(pct, std::sync::atomic::Ordering::Relaxed);
                    eprintln!("  写入 {done}/{total} ({pct}%)");
                }
            };
            let imported =
                jiuzhu_app::registry::import_caseload(app, &grant, files, parsed, &progress).await;
            match imported {
                Ok(summary) => {
                    println!(
                        "{}",
                        serde_json::json!({
                            "households": summary.households,
                            "persons": summary.persons,
                            "memberships": summary.memberships,
                            "divisions_created": summary.divisions_created,
                            "seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
                        })
                    );
                }
                Err(jiuzhu_app::Error::Invalid(errors)) => {
                    return Ok(report_rejected(&ValidationErrors(errors)))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Import(ImportCommand::Divisions { file }) => {
            let grant = cli_actor.grant::<ManageDivisions>()?;
            let file = read_input(&file)?;
            let limits = jiuzhu_import::divisions::COMMAND_LINE;
            match jiuzhu_app::registry::import_divisions(app, &grant, file, limits).await {
                Ok(n) => println!("已导入 {n} 个区划节点 (divisions imported)"),
                Err(jiuzhu_app::Error::Invalid(errors)) => {
                    return Ok(report_rejected(&ValidationErrors(errors)))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::User(cmd) => user_command(app, &cli_actor, cmd).await?,
        Command::WhatIf(args) => cmd_whatif::run_on_store(&args, app, &cli_actor).await?,
        Command::Month(args) => cmd_month::run(&args, app, &cli_actor).await?,
        Command::LetterPrefix { county, prefix } => {
            let county = DivisionCode::parse(&county)
                .map_err(|e| anyhow::anyhow!("区县代码无效 (bad county code): {e}"))?;
            store
                .set_letter_prefix(&cli_actor.grant::<ManageDivisions>()?, &county, &prefix)
                .await?;
            println!("已设置 {county} 决定书文号前缀:{}", prefix.trim());
        }
        Command::Policy(cmd) => cmd_policy::run(&cmd, app, &cli_actor).await?,
        Command::Calendar(cmd) => cmd_calendar::run(&cmd, app, &cli_actor).await?,
        Command::Import(ImportCommand::Feed(args)) => {
            return cmd_verify::import_feed(&args, app, &cli_actor).await
        }
        Command::Verify(cmd) => return cmd_verify::run(&cmd, app, &cli_actor).await,
        Command::Calc(_)
        | Command::Serve(_)
        | Command::Demo
        | Command::Audit(_)
        | Command::DataKey(_) => {
            unreachable!("handled by run")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A file to import, streamed by the importer (never read whole here).
fn read_input(path: &Path) -> anyhow::Result<jiuzhu_import::Input> {
    std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(jiuzhu_import::Input::file(path))
}

/// Prints every rejected row and returns the exit code for "input rejected".
fn report_rejected(errors: &ValidationErrors) -> ExitCode {
    eprintln!("导入被拒绝,未写入任何数据。共 {} 处错误:", errors.0.len());
    for e in &errors.0 {
        eprintln!("  {e}");
    }
    ExitCode::from(2)
}

/// The console works on administrator accounts only: what a system administrator could do to a
/// business account here (create it, reset it and keep it approved) is exactly what 三员分立
/// forbids. Business accounts go through the web, created by the system administrator and
/// approved by a security administrator.
fn console_admin_only(role: Role) -> anyhow::Result<()> {
    if !role.is_admin() {
        bail!(
            "命令行只处理三员账户 (system_admin, security_admin, audit_admin);\
             {}等业务账户由系统管理员在网页上创建或重置,经安全管理员审核后使用 \
             (business accounts are managed on the web)",
            role.label_zh()
        );
    }
    Ok(())
}

async fn user_command(
    app: &jiuzhu_app::App,
    actor: &Actor,
    cmd: UserCommand,
) -> anyhow::Result<()> {
    let store = app.store().as_ref();
    let grant = actor.grant::<ManageUsers>()?;
    match cmd {
        UserCommand::Create {
            username,
            name,
            role,
            division,
        } => {
            let role =
                Role::parse(&role).with_context(|| format!("未知角色 (unknown role) {role}"))?;
            console_admin_only(role)?;
            let division =
                DivisionCode::parse(&division).map_err(|e| anyhow::anyhow!(e.message_zh()))?;
            let (user, password) = app
                .create_account(
                    &grant,
                    jiuzhu_app::accounts::NewAccount {
                        username,
                        display_name: name,
                        role,
                        department: None,
                        division,
                    },
                )
                .await?;
            println!(
                "已创建用户 {} ({}),一次性密码: {password}",
                user.username,
                user.role.label_zh()
            );
        }
        UserCommand::List => {
            for u in store.list_users(&actor.grant::<ReadUsers>()?).await? {
                println!(
                    "{:<20} {:<12} {:<16} {}{}{}",
                    u.username,
                    u.role.label_zh(),
                    u.division,
                    u.display_name,
                    if u.active { "" } else { " (停用)" },
                    match u.approval {
                        jiuzhu_domain::Approval::PendingApproval => " (待审核)",
                        jiuzhu_domain::Approval::Approved => "",
                    }
                );
            }
        }
        UserCommand::ResetPassword { username } => {
            let user = store
                .user_by_username(&username)
                .await?
                .with_context(|| format!("用户 {username} 不存在"))?;
            console_admin_only(user.role)?;
            let read = actor.grant::<ReadUsers>()?;
            let (_, password) = app.reset_password(&grant, &read, user.id).await?;
            println!("已重置 {username} 的密码,一次性密码: {password}");
        }
    }
    Ok(())
}
