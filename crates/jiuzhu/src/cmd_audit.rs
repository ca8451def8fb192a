//! `jiuzhu audit …`: verifying the chain against its signed checkpoints, writing a checkpoint,
//! and the signed export of a period (docs/security.md). Thin: the work is the application's
//! (`jiuzhu_app::audit`), shared with `serve` and the audit administrator's page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use jiuzhu_app::audit::{AuditSeal, SealPaths};
use jiuzhu_app::App;
use jiuzhu_domain::audit::beijing_time;
use jiuzhu_domain::audit_seal::grouped;
use jiuzhu_domain::{Actor, ChainHead};
use jiuzhu_store::audit_export::verify_export;

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the SM3 hash chain and check it against the signed checkpoints: exits non-zero,
    /// naming the event or checkpoint, if any row was edited, deleted or reordered, the log was
    /// truncated or the chain rebuilt, or the key is missing. When intact, writes a checkpoint.
    Verify,
    /// Sign the chain head now and append it to the checkpoint file (creates the keys on a
    /// first start, like `serve` and `demo`).
    Checkpoint,
    /// Write a period's events (as stored: masked copies only) to a new file signed with SM2,
    /// after verifying the whole log.
    Export {
        /// First day, Beijing time (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// Last day, included.
        #[arg(long)]
        to: NaiveDate,
        /// The export file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an export with the public key alone (no database, no private key needed).
    VerifyExport {
        file: PathBuf,
        /// The public key (default: `<audit key>.pub`).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
}

/// `audit verify-export`: needs neither the database nor the private key.
pub fn verify_export_file(file: &Path, public_key: &Path) -> ExitCode {
    match verify_export(file, public_key) {
        Ok(s) => {
            let h = &s.header;
            println!(
                "导出文件完好 (export intact): {} 至 {},事件 seq {}–{} 共 {} 条",
                h.from, h.to, h.first_seq, h.last_seq, h.events
            );
            println!(
                "  起点 (starts after) seq {} 哈希 {};导出于北京时间 {}",
                h.after_seq,
                h.after_hash,
                beijing_time(&h.exported_at)
            );
            println!("  签名密钥指纹 (key fingerprint): {}", grouped(&h.key));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误 (error): {e}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cmd: AuditCommand, app: &App, paths: &SealPaths) -> anyhow::Result<ExitCode> {
    let actor = Actor::system("cli");
    match cmd {
        AuditCommand::Verify => verify(app, paths, &actor).await,
        AuditCommand::Checkpoint => {
            let seal = open_creating(app, paths, &actor, Out::Stdout).await?;
            match app.audit_checkpoint(&seal).await? {
                Some(c) => println!("已写入检查点 (checkpoint written) #{}: seq {}", c.n, c.seq),
                None => println!("审计链自最新检查点以来没有新事件,未写入 (no new events)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export { from, to, out } => {
            export(app, paths, &actor, (from, to), &out).await
        }
        AuditCommand::VerifyExport { .. } => unreachable!("handled without the database"),
    }
}

async fn verify(app: &App, paths: &SealPaths, actor: &Actor) -> anyhow::Result<ExitCode> {
    let checked = match AuditSeal::open(paths) {
        Ok(seal) => app.verify_audit(&seal).await.map(|v| (seal, v)),
        Err(e) => Err(e),
    };
    let (seal, v) = match checked {
        Ok(found) => found,
        Err(e) => {
            eprintln!("审计日志无法校验 (the audit log cannot be verified): {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let newest = v
        .newest
        .as_ref()
        .map(|c| format!("#{}: seq {},北京时间 {}", c.n, c.seq, beijing_time(&c.at)));
    if let Some(problem) = &v.problem {
        eprintln!("审计日志未通过校验 (audit log NOT intact): {problem}");
        eprintln!(
            "问题之前已校验的事件 (events checked before the problem): {}",
            v.events
        );
        if let Some(n) = &newest {
            eprintln!("最新检查点 (newest checkpoint) {n}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let newest = newest.expect("an intact log has a checkpoint");
    println!("审计链完好 (audit chain intact): {} 条事件", v.events);
    println!("  对照最新检查点 (checked against the newest checkpoint) {newest}");
    println!(
        "  检查点之后的事件 (events after it, not covered by a checkpoint until now): {} 条",
        v.window
    );
    if let Some(c) = &v.oldest {
        println!(
            "  检查点文件 (checkpoint file): {} 个检查点,最早 #{} seq {},北京时间 {}",
            v.checkpoints,
            c.n,
            c.seq,
            beijing_time(&c.at)
        );
    }
    if v.torn_tail {
        println!("  注意:检查点文件末行写入时中断,已忽略 (a torn last line was ignored)");
    }
    println!(
        "  签名密钥指纹 (key fingerprint): {}",
        seal.public().fingerprint_grouped()
    );
    // Recorded after the report is printed: a failure to record is said after it.
    if let Some(c) = app.record_audit_verified(&seal, actor, &v).await?? {
        println!("已写入检查点 (checkpoint written) #{}: seq {}", c.n, c.seq);
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(
    app: &App,
    paths: &SealPaths,
    actor: &Actor,
    (from, to): (NaiveDate, NaiveDate),
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let seal = match AuditSeal::open(paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("错误 (error): {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let h = match app.export_audit(&seal, (from, to), out).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("错误 (error): {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let handed_over = format!(
        "to {}",
        out.file_name().unwrap_or_default().to_string_lossy()
    );
    app.record_audit_export(&seal, actor, &h, &handed_over)
        .await??;
    println!(
        "已导出 (exported) {from} 至 {to}:事件 seq {}–{} 共 {} 条 → {}",
        h.first_seq,
        h.last_seq,
        h.events,
        out.display()
    );
    println!(
        "  签名密钥指纹 (key fingerprint): {};核验 (check with): jiuzhu audit verify-export {} --public-key {}",
        seal.public().fingerprint_grouped(),
        out.display(),
        paths.public_key.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where notices about the keys go: stdout for `serve` and `demo` (beside the accounts they
/// print), stderr for commands whose stdout is their result (JSON).
#[derive(Debug, Clone, Copy)]
pub enum Out {
    Stdout,
    Stderr,
}

impl Out {
    pub(crate) fn line(self, s: &str) {
        match self {
            Out::Stdout => println!("{s}"),
            Out::Stderr => eprintln!("{s}"),
        }
    }
}

/// Opens the keys, creating them on a first start: then says where they are and records
/// their creation in the audit log.
pub async fn open_creating(
    app: &App,
    paths: &SealPaths,
    actor: &Actor,
    out: Out,
) -> anyhow::Result<AuditSeal> {
    let (seal, created) = app.open_or_create_seal(paths)?;
    if created {
        let shown = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        out.line("首次启动:已生成审计签名密钥 (first start: audit signing keys created)");
        out.line(&format!(
            "  私钥 private key (0600;须离线备份,不可放进数据库备份): {}",
            shown(&paths.key).display()
        ));
        out.line(&format!(
            "  公钥 public key (交审计人员,核验检查点和导出文件): {}",
            shown(&paths.public_key).display()
        ));
        out.line(&format!(
            "  公钥指纹 fingerprint (请抄录留存): {}",
            seal.public().fingerprint_grouped()
        ));
        out.line(&format!(
            "  检查点文件 checkpoints: {}",
            shown(&paths.checkpoints).display()
        ));
        out.line("  移动与备份见 docs/security.md (moving and backing up the keys)");
        // Recorded once announced: keys that exist are never left unannounced.
        app.record_audit_keys_created(&seal, actor).await?;
    }
    Ok(seal)
}

/// At the exit of a command that wrote events: checkpoint them. Problems are reported, not
/// fatal: the command's own work is done and committed.
pub async fn checkpoint_at_exit(app: &App, paths: &SealPaths, before: &ChainHead) {
    let result = async {
        if &app.chain_head().await? == before {
            return Ok(());
        }
        let seal = open_creating(app, paths, &Actor::system("cli"), Out::Stderr).await?;
        app.audit_checkpoint(&seal).await?;
        anyhow::Ok(())
    };
    if let Err(e) = result.await {
        eprintln!("警告 (warning): 审计检查点未写入 (audit checkpoint not written): {e:#}");
    }
}
