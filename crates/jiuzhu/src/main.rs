//! `jiuzhu`: the one binary. Subcommands start the web platform, seed a demo county, import legacy
//! caseloads and jurisdiction trees, manage users, verify the audit chain and compute benefits.

mod bounded_input;
mod cmd_audit;
mod cmd_calc;
mod cmd_calendar;
mod cmd_data_key;
mod cmd_month;
mod cmd_policy;
mod cmd_verify;
mod cmd_whatif;
mod demo;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use cmd_audit::Out;
use jiuzhu_domain::access::{ImportCaseload, ManageDivisions, ManageUsers, ReadUsers};
use jiuzhu_domain::{Actor, Clock, DivisionCode, Role, SystemClock, ValidationErrors};
use jiuzhu_store::audit_seal::{checkpoint_every, SealPaths};
use jiuzhu_store::Store;

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
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JIUZHU_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed the demo county (if not seeded yet) and print its accounts.
        #[arg(long)]
        demo: bool,
        /// Idle session timeout in minutes.
        #[arg(long, default_value_t = 30)]
        idle_minutes: i64,
        /// Absolute session lifetime in hours: a session this old ends however busy it is.
        #[arg(long, default_value_t = 12)]
        session_hours: i64,
        /// Mark session cookies Secure and send HSTS. On by default with --tls-cert; set it when
        /// a reverse proxy terminates HTTPS (docs/security.md). `--secure-cookies false` turns
        /// it off.
        #[arg(long, num_args = 0..=1, default_missing_value = "true")]
        secure_cookies: Option<bool>,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, requires = "tls_key", env = "JIUZHU_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert", env = "JIUZHU_TLS_KEY")]
        tls_key: Option<PathBuf>,
        /// A reverse proxy (address or network, e.g. 10.0.0.2 or 10.0.0.0/24) whose
        /// X-Forwarded-For names the client; repeatable. From anyone else the header is ignored.
        #[arg(long = "trusted-proxy", value_parser = parse_proxy)]
        trusted_proxies: Vec<jiuzhu_web::client_ip::IpNet>,
        /// Seconds a client has to send a request's headers.
        #[arg(long, default_value_t = 10)]
        header_timeout_secs: u64,
        /// Longest pause, in seconds, within a request body (a slow upload that keeps moving is
        /// not cut).
        #[arg(long, default_value_t = 30)]
        body_idle_timeout_secs: u64,
        /// Largest department delivery (feed file) accepted, in MB (at most the parser's own
        /// limit, 4096).
        #[arg(long, default_value_t = 4096)]
        max_feed_mb: u64,
        /// Run with "today" fixed to this date (YYYY-MM-DD) for demos, training and tests; the
        /// time of day still runs. Never for production: deadlines and decisions use this date.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// CJK font for the notice and letter PDFs (default: the Debian paths in docs/print.md).
        #[arg(long, env = "JIUZHU_FONT")]
        font: Option<PathBuf>,
        /// Directory of the one-person-one-file documents (default: `files` next to the SQLite
        /// database; `data/files` with PostgreSQL). Files are content-addressed, never deleted.
        #[arg(long, env = "JIUZHU_FILES_DIR")]
        files_dir: Option<PathBuf>,
        /// Largest accepted document, in MB.
        #[arg(long, default_value_t = 20)]
        max_document_mb: u64,
        /// Seconds between audit checkpoints while events are written (at most 60): the
        /// window in which the newest events are not yet covered by a signed checkpoint.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=60))]
        checkpoint_seconds: u64,
    },
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

/// `files` next to the SQLite database file, so a county's data stays in one directory.
fn default_files_dir(database: &str) -> PathBuf {
    let Some(rest) = database.strip_prefix("sqlite:") else {
        return PathBuf::from("data/files");
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("files"),
        _ => PathBuf::from("files"),
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
        Command::Serve {
            today: Some(day), ..
        } => {
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
        Command::Serve { .. } | Command::Demo => Out::Stdout,
        _ => Out::Stderr,
    };
    let store = cmd_data_key::open_store(&cli.database, clock.clone(), &data_key, out).await?;
    // The use-cases every command below calls, as the web does.
    let app = jiuzhu_app::App::builder(store.clone(), clock.clone())
        .feeds_dir(&data_dir)
        .build()?;
    match cli.command {
        Command::Serve {
            listen,
            demo,
            idle_minutes,
            session_hours,
            secure_cookies,
            tls_cert,
            tls_key,
            trusted_proxies,
            header_timeout_secs,
            body_idle_timeout_secs,
            max_feed_mb,
            today,
            font,
            files_dir,
            max_document_mb,
            checkpoint_seconds,
        } => {
            // The keys first: a key that cannot be found stops the start before anything is
            // written, instead of leaving events no checkpoint will cover.
            let seal = cmd_audit::open_creating(
                store.as_ref(),
                &seal_paths,
                &Actor::system("first-start"),
                Out::Stdout,
            )
            .await?;
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => Some(jiuzhu_web::load_tls(cert, key)?),
                _ => None,
            };
            let files_dir = files_dir.unwrap_or_else(|| default_files_dir(&cli.database));
            cmd_data_key::tighten(
                &data_dir,
                &files_dir,
                &[
                    seal_paths.key.clone(),
                    seal_paths.public_key.clone(),
                    seal_paths.checkpoints.clone(),
                    data_key.clone(),
                ],
            )?;
            if demo {
                demo::seed_if_needed(&app).await?;
                demo::seed_cases(&app).await?;
                demo::seed_verification(&app).await?;
            }
            let first = app.ensure_first_admins().await?;
            if !first.is_empty() {
                println!("首次启动:已创建三员账户 (first start: the three administrators created)");
                for a in &first {
                    println!(
                        "  {} 用户名 username: {}  一次性密码 one-time password: {}",
                        a.role.label_zh(),
                        a.username,
                        a.one_time_password
                    );
                }
                println!("  首次登录后须修改密码,请分别交给三位不同的人员 (must be changed at first login; hand each to a different person)");
            }
            warn_missing_admins(store.as_ref()).await?;
            if demo {
                demo::print_accounts();
            }
            let abandoned =
                jiuzhu_store::kept::FeedFiles::new(&data_dir).remove_abandoned_staging()?;
            if abandoned > 0 {
                tracing::info!(
                    files = abandoned,
                    "removed uploads abandoned by a stopped process"
                );
            }
            if let Err(e) = seal.checkpoint(store.as_ref(), clock.as_ref()).await {
                eprintln!("警告 (warning): 审计检查点未写入 (audit checkpoint not written): {e}");
            }
            println!(
                "审计检查点 (audit checkpoints): {}",
                seal_paths.checkpoints.display()
            );
            let defaults = jiuzhu_web::WebConfig::default();
            let config = jiuzhu_web::WebConfig {
                idle_timeout: chrono::Duration::minutes(idle_minutes),
                session_lifetime: chrono::Duration::hours(session_hours),
                secure_cookies: secure_cookies.unwrap_or(tls.is_some()),
                tls: tls.clone(),
                trusted_proxies,
                header_read_timeout: std::time::Duration::from_secs(header_timeout_secs),
                body_idle_timeout: std::time::Duration::from_secs(body_idle_timeout_secs),
                body_limits: jiuzhu_web::limits::BodyLimits {
                    feed: max_feed_mb * 1024 * 1024,
                    ..defaults.body_limits.clone()
                },
                font: font.clone(),
                files_dir,
                max_document_bytes: max_document_mb * 1024 * 1024,
                feeds_dir: data_dir.clone(),
                audit_seal: Some(seal_paths.clone()),
                ..defaults
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            if tls.is_none() && !listen.ip().is_loopback() && !config.secure_cookies {
                eprintln!(
                    "警告 (warning): 以明文 HTTP 监听 {listen};生产环境请使用 --tls-cert/--tls-key \
                     或按 docs/security.md 置于 HTTPS 反向代理之后 (plain HTTP on a non-loopback address)"
                );
            }
            let state = jiuzhu_web::AppState::with_app(app.clone(), config);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            if let Some(day) = today {
                println!("注意:日期固定为 {day}(--today),仅供演示、培训和测试");
            }
            let shutdown = shutdown_signal();
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let checkpoints = tokio::spawn(checkpoint_every(
                Arc::new(seal),
                store,
                clock,
                Duration::from_secs(checkpoint_seconds),
                stopped,
            ));
            println!("jiuzhu 已启动: {scheme}://{addr}/   (Ctrl+C 停止)");
            tracing::info!(%addr, "listening");
            let served = jiuzhu_web::serve(listener, state, shutdown).await;
            // The last checkpoint, after the in-flight requests have finished.
            let _ = stop.send(true);
            let _ = checkpoints.await;
            served?;
            tracing::info!("stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let seal = cmd_audit::open_creating(
                store.as_ref(),
                &seal_paths,
                &Actor::system("demo"),
                Out::Stdout,
            )
            .await?;
            demo::seed_if_needed(&app).await?;
            demo::seed_cases(&app).await?;
            demo::seed_verification(&app).await?;
            demo::print_accounts();
            seal.checkpoint(store.as_ref(), clock.as_ref()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(cmd) => {
            cmd_audit::run(cmd, store.as_ref(), clock.as_ref(), &seal_paths).await
        }
        command => {
            // Commands that write events checkpoint them at their exit, failed or not.
            let before = store.chain_head().await?;
            let result = store_command(command, &app, &data_dir).await;
            cmd_audit::checkpoint_at_exit(store.as_ref(), clock.as_ref(), &seal_paths, &before)
                .await;
            result
        }
    }
}

/// The commands that work on the store, apart from `serve`, `demo` and `audit`.
async fn store_command(
    command: Command,
    app: &jiuzhu_app::App,
    data_dir: &Path,
) -> anyhow::Result<ExitCode> {
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
            let h = read_input(&households)?;
            let m = read_input(&members)?;
            let valid_from = valid_from.unwrap_or_else(|| app.today());
            let batch = match jiuzhu_import::caseload::parse(
                &h,
                &m,
                valid_from,
                create_missing_divisions,
                jiuzhu_import::caseload::Limits::COMMAND_LINE,
            ) {
                Ok(b) => b,
                Err(errors) => return Ok(report_rejected(&errors)),
            };
            let parsed = started.elapsed();
            eprintln!(
                "已校验 {} 户、{} 人,用时 {:.1} 秒;开始写入…",
                batch.households.len(),
                batch.members.len(),
                parsed.as_secs_f64()
            );
            let grant = cli_actor.grant::<ImportCaseload>()?;
            let last = std::sync::atomic::AtomicU64::new(0);
            let progress = |done: u64, total: u64| {
                let pct = (done * 100).checked_div(total).unwrap_or(100);
                if pct >= last.load(std::sync::atomic::Ordering::Relaxed) + 10 || done == total {
                    last.store(pct, std::sync::atomic::Ordering::Relaxed);
                    eprintln!("  写入 {done}/{total} ({pct}%)");
                }
            };
            match store.import_caseload(&grant, &batch, &progress).await {
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
                Err(jiuzhu_store::StoreError::Invalid(errors)) => {
                    return Ok(report_rejected(&errors))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Import(ImportCommand::Divisions { file }) => {
            let input = read_input(&file)?;
            let rows = match jiuzhu_import::divisions::parse(
                &input,
                jiuzhu_import::divisions::COMMAND_LINE,
            ) {
                Ok(r) => r,
                Err(errors) => return Ok(report_rejected(&errors)),
            };
            let grant = cli_actor.grant::<ManageDivisions>()?;
            match store.import_divisions(&grant, &rows).await {
                Ok(n) => println!("已导入 {n} 个区划节点 (divisions imported)"),
                Err(jiuzhu_store::StoreError::Invalid(errors)) => {
                    return Ok(report_rejected(&errors))
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
            return cmd_verify::import_feed(&args, store.as_ref(), &cli_actor, data_dir).await
        }
        Command::Verify(cmd) => return cmd_verify::run(&cmd, app, &cli_actor).await,
        Command::Calc(_)
        | Command::Serve { .. }
        | Command::Demo
        | Command::Audit(_)
        | Command::DataKey(_) => {
            unreachable!("handled by run")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_proxy(s: &str) -> Result<jiuzhu_web::client_ip::IpNet, String> {
    jiuzhu_web::client_ip::parse_trusted_proxy(s)
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

/// After an upgrade the former administrators are system administrators, and nobody approves
/// accounts or reads the log until a security and an audit administrator exist: say so at
/// every start until they do.
async fn warn_missing_admins(store: &dyn Store) -> anyhow::Result<()> {
    let users = store
        .list_users(&Actor::system("first-start").grant::<ReadUsers>()?)
        .await?;
    for role in [Role::SecurityAdmin, Role::AuditAdmin] {
        let present = users
            .iter()
            .any(|u| u.role == role && u.active && u.approval == jiuzhu_domain::Approval::Approved);
        if !present {
            eprintln!(
                "警告 (warning): 没有在用的{}。请在服务器上创建:jiuzhu user create --username U \
                 --name 姓名 --role {} --division 区划代码 (README)",
                role.label_zh(),
                role.as_str()
            );
        }
    }
    Ok(())
}

/// Ctrl+C or SIGTERM. The handlers are installed when this is called, not when the future is
/// first polled, so a stop that arrives right after "已启动" is printed is still graceful (and
/// still ends with the last audit checkpoint).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let recv = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = recv(term) => {},
            _ = recv(int) => {},
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}
