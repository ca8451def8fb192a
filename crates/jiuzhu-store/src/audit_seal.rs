//! Audit signing keys and the checkpoint file: the I/O around the pure
//! `jiuzhu_domain::audit_seal`, shared by the CLI and `serve` (docs/security.md).
//!
//! - The keys are PEM files (SM2, PKCS#8 private key of mode 0600, and its public key) outside
//!   the database; by default `audit-signing.key` / `audit-signing.pub` beside the SQLite file
//!   (or in the data directory).
//! - The checkpoints are an append-only file of signed JSON lines (`audit-checkpoints.jsonl`).
//!   Each writer takes `flock` on it, reads its last line, reads the chain head, and appends one
//!   line with a single `write` followed by `fsync`; a line cut short by a crash is recognised
//!   (no newline) and cut off by the next append.
//! - A writer never signs a head that does not hold the last checkpoint: once the chain was
//!   truncated or rebuilt, later activity cannot bless it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiuzhu_domain::audit::{format_time, ChainBreak, ChainVerifier};
use jiuzhu_domain::audit_seal::{
    read_log, sm2, split_lines, Checkpoint, CheckpointLog, KeyError, LineError, LogError,
    PublicSealKey, SealBreak, SealCheck, SealKey,
};
use jiuzhu_domain::{AuditRecord, ChainHead, Clock};

use crate::private_fs;
use crate::{Store, StoreError};

pub const KEY_FILE: &str = "audit-signing.key";
pub const PUBLIC_KEY_FILE: &str = "audit-signing.pub";
pub const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";

/// How often `serve` checkpoints while events are written: the window a checkpoint leaves.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Events read per page when walking the chain.
pub(crate) const PAGE: i64 = 10_000;

/// Where the keys and the checkpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealPaths {
    pub key: PathBuf,
    /// The key's public half: `<key>.pub` (the key's name with the extension `pub`).
    pub public_key: PathBuf,
    pub checkpoints: PathBuf,
}

impl SealPaths {
    /// `key` and `checkpoints` as configured, else the default names in `dir`.
    pub fn new(dir: &Path, key: Option<PathBuf>, checkpoints: Option<PathBuf>) -> SealPaths {
        let key = key.unwrap_or_else(|| dir.join(KEY_FILE));
        SealPaths {
            public_key: key.with_extension("pub"),
            key,
            checkpoints: checkpoints.unwrap_or_else(|| dir.join(CHECKPOINT_FILE)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "找不到审计签名密钥 {} (audit signing key not found);没有密钥就无法确认审计日志未被截断或重建 \
         (without the key, truncation and a rebuilt chain cannot be ruled out)。用 --audit-key 或 \
         JIUZHU_AUDIT_KEY 指定密钥文件 (docs/security.md)", .0.display()
    )]
    NoKey(PathBuf),
    #[error(
        "找不到审计签名密钥 {} ,但 {} 已存在:不会生成新密钥 (the key is missing but {} exists: \
         no new key is made)。用 --audit-key 或 JIUZHU_AUDIT_KEY 指定原来的密钥 (docs/security.md)",
        key.display(), other.display(), other.display()
    )]
    KeyLost { key: PathBuf, other: PathBuf },
    #[error(
        "审计签名密钥 {} 的权限为 {mode:04o},其他用户可读 (readable by others);\
         请执行 chmod 600 {}", path.display(), path.display()
    )]
    KeyMode { path: PathBuf, mode: u32 },
    #[error("{}: {source}", path.display())]
    BadKey { path: PathBuf, source: KeyError },
    #[error(
        "公钥 {} 与私钥不配对 (the public key does not belong to the private key)", .0.display()
    )]
    PublicKeyDiffers(PathBuf),
    #[error("{}: {source}", path.display())]
    Log { path: PathBuf, source: LogError },
    #[error(
        "审计链与最新检查点不符,不写新检查点 (the chain does not hold the newest checkpoint; \
         none is written): {0}。请运行 jiuzhu audit verify"
    )]
    Broken(SealBreak),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SealError + '_ {
    move |source| SealError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The signing key and where the checkpoints go.
#[derive(Debug)]
pub struct AuditSeal {
    paths: SealPaths,
    key: SealKey,
}

impl AuditSeal {
    /// Loads the key; never creates one (`audit verify`, `audit export`).
    pub fn open(paths: &SealPaths) -> Result<AuditSeal, SealError> {
        if !paths.key.exists() {
            return Err(missing_key(paths));
        }
        let key = load_key(&paths.key)?;
        match std::fs::read_to_string(&paths.public_key) {
            Ok(pem) => {
                let public = PublicSealKey::from_pem(&pem).map_err(|source| SealError::BadKey {
                    path: paths.public_key.clone(),
                    source,
                })?;
                if &public != key.public() {
                    return Err(SealError::PublicKeyDiffers(paths.public_key.clone()));
                }
            }
            // The public half is derived: put it back if it went missing.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_new(&paths.public_key, key.public().to_pem().as_bytes())?;
            }
            Err(e) => return Err(io(&paths.public_key)(e)),
        }
        Ok(AuditSeal {
            paths: paths.clone(),
            key,
        })
    }

    /// Loads the key, or on a first start (no key, no public key, no checkpoints) creates a
    /// random one. Returns whether it was created, so the caller prints where it is.
    pub fn open_or_create(paths: &SealPaths) -> Result<(AuditSeal, bool), SealError> {
        if paths.key.exists() {
            return Ok((AuditSeal::open(paths)?, false));
        }
        missing_key_is_first_start(paths)?;
        let secret = sm2::SecretKey::random(&mut rand::rngs::OsRng);
        let key = SealKey::from_secret(&secret).map_err(|source| SealError::BadKey {
            path: paths.key.clone(),
            source,
        })?;
        if let Some(dir) = paths.key.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        match write_new(&paths.key, key.to_pem().as_bytes()) {
            Ok(()) => {}
            // Another process created it meanwhile: use that one.
            Err(SealError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                return Ok((AuditSeal::open(paths)?, false));
            }
            Err(e) => return Err(e),
        }
        write_new(&paths.public_key, key.public().to_pem().as_bytes())?;
        Ok((
            AuditSeal {
                paths: paths.clone(),
                key,
            },
            true,
        ))
    }

    pub fn paths(&self) -> &SealPaths {
        &self.paths
    }

    pub fn public(&self) -> &PublicSealKey {
        self.key.public()
    }

    pub(crate) fn key(&self) -> &SealKey {
        &self.key
    }

    /// Every checkpoint, each signature checked (an absent file has none).
    pub fn read_log(&self) -> Result<CheckpointLog, SealError> {
        let path = &self.paths.checkpoints;
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(path)(e)),
        };
        read_log(&bytes, self.public()).map_err(|source| SealError::Log {
            path: path.clone(),
            source,
        })
    }

    /// Signs the chain head and appends it, unless it is the newest checkpoint already
    /// (`Ok(None)`). Refuses (`Broken`) when the chain no longer holds the newest checkpoint.
    pub async fn checkpoint(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
    ) -> Result<Option<Checkpoint>, SealError> {
        let mut log = LockedLog::open(&self.paths.checkpoints).await?;
        let last = log.last(self.public())?;
        let head = store.chain_head().await?;
        if let Some(last) = &last {
            if last.seq == head.seq && last.hash == head.hash {
                return Ok(None);
            }
            still_holds(store, last).await?;
        }
        let n = last.as_ref().map_or(1, |c| c.n + 1);
        let cp = Checkpoint::sign(
            &self.key,
            n,
            head.seq,
            &head.hash,
            &format_time(clock.now()),
        );
        log.append(&cp)?;
        // Also in the service log, which an office ships off the host: a copy of the checkpoints
        // that someone who can edit the checkpoint file cannot reach.
        tracing::info!(n = cp.n, seq = cp.seq, hash = %cp.hash, "audit checkpoint");
        Ok(Some(cp))
    }

    /// [`AuditSeal::checkpoint`] for background use: failures are logged, not returned.
    pub async fn checkpoint_logged(&self, store: &dyn Store, clock: &dyn Clock) {
        if let Err(e) = self.checkpoint(store, clock).await {
            tracing::error!("审计检查点未写入 (audit checkpoint not written): {e}");
        }
    }

    /// Walks the whole chain and checks it against every checkpoint (docs/security.md).
    pub async fn verify(&self, store: &dyn Store) -> Result<Verification, SealError> {
        self.verify_observing(store, |_| {}).await
    }

    /// [`AuditSeal::verify`], showing each event that checks to `seen` (an export finds its
    /// period on the way).
    pub(crate) async fn verify_observing(
        &self,
        store: &dyn Store,
        mut seen: impl FnMut(&AuditRecord),
    ) -> Result<Verification, SealError> {
        // The checkpoints first: one signed after this read covers events read below.
        let log = self.read_log()?;
        let mut chain = ChainVerifier::default();
        let problem = match SealCheck::new(&log.checkpoints) {
            Err(b) => Some(Problem::Seal(b)),
            Ok(mut seal) => {
                let walked = walk(store, &mut chain, |r| {
                    seen(r);
                    seal.check(r).map_err(Problem::Seal)
                })
                .await?;
                match walked {
                    Err(p) => Some(p),
                    Ok(()) => seal.finish(chain.head().seq).err().map(Problem::Seal),
                }
            }
        };
        let problem =
            problem.or_else(|| log.checkpoints.is_empty().then_some(Problem::NoCheckpoint));
        let head = chain.head();
        Ok(Verification {
            events: chain.checked,
            window: log.newest().map_or(head.seq, |c| head.seq - c.seq),
            newest: log.newest().cloned(),
            oldest: log.checkpoints.first().cloned(),
            checkpoints: log.checkpoints.len(),
            torn_tail: log.torn_tail,
            problem,
        })
    }
}

/// What `audit verify` found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Events whose links and hashes check (all of them when there is no problem).
    pub events: u64,
    pub newest: Option<Checkpoint>,
    /// The file's first checkpoint: a file that starts late was replaced or restarted.
    pub oldest: Option<Checkpoint>,
    /// Events after the newest checkpoint: what a checkpoint does not yet cover.
    pub window: i64,
    pub checkpoints: usize,
    pub torn_tail: bool,
    pub problem: Option<Problem>,
}

/// Why the log is not intact.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    #[error("审计链断裂 (audit chain broken) at seq {}: {}", .0.seq(), .0)]
    Chain(ChainBreak),
    #[error("{0}")]
    Seal(SealBreak),
    #[error(
        "没有检查点,无法确认审计日志未被截断或重建 (no checkpoint: truncation and a rebuilt chain \
         cannot be ruled out)"
    )]
    NoCheckpoint,
}

/// Feeds every event in seq order to `chain` and then to `each`; stops at the first problem.
async fn walk(
    store: &dyn Store,
    chain: &mut ChainVerifier,
    mut each: impl FnMut(&AuditRecord) -> Result<(), Problem>,
) -> Result<Result<(), Problem>, SealError> {
    let mut after = chain.head().seq;
    loop {
        let page = store.audit_page(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(Ok(()));
        };
        after = last.seq;
        for r in &page {
            if let Err(brk) = chain.check(r) {
                return Ok(Err(Problem::Chain(brk)));
            }
            if let Err(p) = each(r) {
                return Ok(Err(p));
            }
        }
    }
}

/// Checkpoints `seal` every `every` while `stop` is false, and once more when it turns true
/// (graceful exit). The first tick is at once, so a start is checkpointed too. Writes nothing
/// while no event was written.
pub async fn checkpoint_every(
    seal: Arc<AuditSeal>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => seal.checkpoint_logged(store.as_ref(), clock.as_ref()).await,
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    seal.checkpoint_logged(store.as_ref(), clock.as_ref()).await;
}

fn missing_key(paths: &SealPaths) -> SealError {
    match missing_key_is_first_start(paths) {
        Err(e) => e,
        Ok(()) => SealError::NoKey(paths.key.clone()),
    }
}

/// A key is only ever made where nothing of a previous one is left: a public key or a
/// checkpoint file without the private key means the key was moved or lost, and a new one
/// would silently start a new line of trust.
fn missing_key_is_first_start(paths: &SealPaths) -> Result<(), SealError> {
    let non_empty = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() > 0);
    for other in [&paths.public_key, &paths.checkpoints] {
        if non_empty(other) {
            return Err(SealError::KeyLost {
                key: paths.key.clone(),
                other: other.clone(),
            });
        }
    }
    Ok(())
}

fn load_key(path: &Path) -> Result<SealKey, SealError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SealError::KeyMode {
            path: path.to_path_buf(),
            mode,
        });
    }
    let pem = std::fs::read_to_string(path).map_err(io(path))?;
    SealKey::from_pem(&pem).map_err(|source| SealError::BadKey {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a new file of mode 0600 in one piece; fails if the name exists (a key is never
/// overwritten).
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    private_fs::write_whole(path, bytes, private_fs::Existing::Keep).map_err(io(path))
}

/// Makes a new directory entry durable.
fn sync_dir(path: &Path) -> Result<(), SealError> {
    private_fs::sync_parent(path).map_err(io(path))
}

/// Whether the chain still holds `last` (its seq, with exactly its hash).
async fn still_holds(store: &dyn Store, last: &Checkpoint) -> Result<(), SealError> {
    let held = if last.seq == 0 {
        Some(ChainHead::genesis())
    } else {
        store
            .audit_page(last.seq - 1, 1)
            .await?
            .into_iter()
            .find(|r| r.seq == last.seq)
            .map(|r| ChainHead {
                seq: r.seq,
                hash: r.hash,
            })
    };
    let at = jiuzhu_domain::audit::beijing_time(&last.at);
    match held {
        Some(h) if h.hash == last.hash => Ok(()),
        Some(_) => Err(SealError::Broken(SealBreak::Rewritten {
            n: last.n,
            seq: last.seq,
            at,
        })),
        None => Err(SealError::Broken(SealBreak::Truncated {
            n: last.n,
            seq: last.seq,
            at,
            held: store.chain_head().await?.seq,
        })),
    }
}

/// The checkpoint file, open for appending under an exclusive `flock` (released on drop).
struct LockedLog {
    path: PathBuf,
    file: File,
}

/// The most of the file read to find its last line; a checkpoint line is about 400 bytes.
const TAIL: u64 = 64 * 1024;

impl LockedLog {
    async fn open(path: &Path) -> Result<LockedLog, SealError> {
        let owned = path.to_path_buf();
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
            if let Some(dir) = owned.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(crate::private_fs::FILE_MODE)
                .open(&owned)?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
            Ok(file)
        })
        .await
        .map_err(|e| io(path)(std::io::Error::other(e)))?
        .map_err(io(path))?;
        Ok(LockedLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The last complete line's checkpoint, its signature checked; `None` for an empty file.
    fn last(&mut self, key: &PublicSealKey) -> Result<Option<Checkpoint>, SealError> {
        let len = self.file.metadata().map_err(io(&self.path))?.len();
        let start = len.saturating_sub(TAIL);
        let mut tail = Vec::new();
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.read_to_end(&mut tail))
            .map_err(io(&self.path))?;
        let (lines, _) = split_lines(&tail);
        // A tail that starts mid-file starts mid-line: its first piece is not a whole line.
        let whole = if start > 0 {
            lines.get(1..).unwrap_or_default()
        } else {
            &lines[..]
        };
        let parsed = match whole.last() {
            Some(line) => Checkpoint::from_line(line, key).map(Some),
            None if start == 0 => Ok(None),
            None => Err(LineError::Unreadable),
        };
        parsed.map_err(|reason| SealError::Log {
            path: self.path.clone(),
            source: LogError {
                line: line_count(&self.path),
                reason,
            },
        })
    }

    /// Cuts off a torn last line, appends `cp` with one write and syncs it to disk.
    fn append(&mut self, cp: &Checkpoint) -> Result<(), SealError> {
        let len = self.file.metadata().map_err(io(&self.path))?.len();
        let complete = self.complete_len(len)?;
        if complete < len {
            tracing::warn!(
                path = %self.path.display(),
                "检查点文件末行不完整(写入时中断),已截去 (torn last line cut off)"
            );
            self.file.set_len(complete).map_err(io(&self.path))?;
        }
        self.file
            .write_all(cp.to_line().as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(io(&self.path))?;
        if len == 0 {
            sync_dir(&self.path)?;
        }
        Ok(())
    }

    /// The length up to and including the last newline.
    fn complete_len(&mut self, len: u64) -> Result<u64, SealError> {
        let start = len.saturating_sub(TAIL);
        let mut tail = Vec::new();
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.read_to_end(&mut tail))
            .map_err(io(&self.path))?;
        Ok(match tail.iter().rposition(|b| *b == b'\n') {
            Some(i) => start + i as u64 + 1,
            None => start,
        })
    }
}

/// The number of complete lines of a file (to name a bad last line by its number).
fn line_count(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
}
