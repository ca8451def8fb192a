//! `jiuzhu serve`: the web platform — the only command that uses the web crate. It opens the audit
//! keys, tightens the data directories, seeds the demo when asked, creates the first
//! administrators, then serves until Ctrl+C or SIGTERM, checkpointing the audit chain beside it
//! and once more after the last request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiuzhu_app::App;
use jiuzhu_domain::access::ReadUsers;
use jiuzhu_domain::{Actor, Role};
use jiuzhu_store::audit_seal::{checkpoint_every, SealPaths};
use jiuzhu_store::Store;
use jiuzhu_web::client_ip::IpNet;

use crate::cmd_audit::{self, Out};
use crate::cmd_data_key;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "JIUZHU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed the demo county (if not seeded yet) and print its accounts.
    #[arg(long)]
    pub demo: bool,
    /// Idle session timeout in minutes.
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: i64,
    /// Absolute session lifetime in hours: a session this old ends however busy it is.
    #[arg(long, default_value_t = 12)]
    pub session_hours: i64,
    /// Mark session cookies Secure and send HSTS. On by default with --tls-cert; set it when
    /// a reverse proxy terminates HTTPS (docs/security.md). `--secure-cookies false` turns
    /// it off.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub secure_cookies: Option<bool>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key", env = "JIUZHU_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", env = "JIUZHU_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy (address or network, e.g. 10.0.0.2 or 10.0.0.0/24) whose
    /// X-Forwarded-For names the client; repeatable. From anyone else the header is ignored.
    #[arg(long = "trusted-proxy", value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Longest pause, in seconds, within a request body (a slow upload that keeps moving is
    /// not cut).
    #[arg(long, default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// Largest department delivery (feed file) accepted, in MB (at most the parser's own
    /// limit, 4096).
    #[arg(long, default_value_t = 4096)]
    pub max_feed_mb: u64,
    /// Run with "today" fixed to this date (YYYY-MM-DD) for demos, training and tests; the
    /// time of day still runs. Never for production: deadlines and decisions use this date.
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
    /// CJK font for the notice and letter PDFs (default: the Debian paths in docs/print.md).
    #[arg(long, env = "JIUZHU_FONT")]
    pub font: Option<PathBuf>,
    /// Directory of the one-person-one-file documents (default: `files` next to the SQLite
    /// database; `data/files` with PostgreSQL). Files are content-addressed, never deleted.
    #[arg(long, env = "JIUZHU_FILES_DIR")]
    pub files_dir: Option<PathBuf>,
    /// Largest accepted document, in MB.
    #[arg(long, default_value_t = 20)]
    pub max_document_mb: u64,
    /// Seconds between audit checkpoints while events are written (at most 60): the
    /// window in which the newest events are not yet covered by a signed checkpoint.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub checkpoint_seconds: u64,
}

/// Where the command's files are (from the global options).
pub struct Paths<'a> {
    pub database: &'a str,
    pub data_dir: &'a Path,
    pub seal: &'a SealPaths,
    pub data_key: &'a Path,
}

pub async fn run(args: ServeArgs, app: &App, paths: &Paths<'_>) -> anyhow::Result<ExitCode> {
    let ServeArgs {
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
    } = args;
    // The keys first: a key that cannot be found stops the start before anything is
    // written, instead of leaving events no checkpoint will cover.
    let seal =
        cmd_audit::open_creating(app, paths.seal, &Actor::system("first-start"), Out::Stdout)
            .await?;
    let tls = match (&tls_cert, &tls_key) {
        (Some(cert), Some(key)) => Some(jiuzhu_web::load_tls(cert, key)?),
        _ => None,
    };
    let files_dir = files_dir.unwrap_or_else(|| default_files_dir(paths.database));
    cmd_data_key::tighten(
        paths.data_dir,
        &files_dir,
        &[
            paths.seal.key.clone(),
            paths.seal.public_key.clone(),
            paths.seal.checkpoints.clone(),
            paths.data_key.to_path_buf(),
        ],
    )?;
    if demo {
        crate::demo::seed_if_needed(app).await?;
        crate::demo::seed_cases(app).await?;
        crate::demo::seed_verification(app).await?;
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
    warn_missing_admins(app.store().as_ref()).await?;
    if demo {
        crate::demo::print_accounts();
    }
    let abandoned = app.feeds().remove_abandoned_staging()?;
    if abandoned > 0 {
        tracing::info!(
            files = abandoned,
            "removed uploads abandoned by a stopped process"
        );
    }
    if let Err(e) = app.audit_checkpoint(&seal).await {
        eprintln!("警告 (warning): 审计检查点未写入 (audit checkpoint not written): {e}");
    }
    println!(
        "审计检查点 (audit checkpoints): {}",
        paths.seal.checkpoints.display()
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
        feeds_dir: paths.data_dir.to_path_buf(),
        audit_seal: Some(paths.seal.clone()),
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
        app.store().clone(),
        app.clock().clone(),
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

fn parse_proxy(s: &str) -> Result<jiuzhu_web::client_ip::IpNet, String> {
    jiuzhu_web::client_ip::parse_trusted_proxy(s)
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
