//! Signed exports of a period of the audit log (`jiuzhu audit export`, `audit verify-export`):
//! the file I/O around the pure `jiuzhu_domain::audit_export`.
//!
//! An export is only made of a log that verifies (chain and checkpoints), so a signature never
//! vouches for a tampered log. The period's events are the contiguous run of seqs from the first
//! to the last event stamped inside it, so the file is a piece of the chain that checks on its
//! own from the position it starts at.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use sm3::{Digest, Sm3};

use jiuzhu_domain::audit::{format_time, ChainVerifier};
use jiuzhu_domain::audit_export::{
    to_line, ExportCheck, ExportError, ExportHeader, ExportSeal, ExportSummary, EXPORT_FORMAT,
};
use jiuzhu_domain::audit_seal::{KeyError, PublicSealKey};
use jiuzhu_domain::{AuditRecord, ChainHead, Clock};

use crate::audit_seal::{AuditSeal, Problem, SealError, PAGE};
use crate::Store;

#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("审计日志未通过校验,未导出 (the log does not verify; nothing exported): {0}")]
    NotIntact(Problem),
    #[error("{from} 至 {to} 没有审计事件 (no audit events in the period)")]
    Empty { from: NaiveDate, to: NaiveDate },
    #[error("结束日期 {to} 早于开始日期 {from} (the period ends before it starts)")]
    BadPeriod { from: NaiveDate, to: NaiveDate },
    #[error("{} 已存在,不覆盖 (the file exists; it is not overwritten)", .0.display())]
    Exists(PathBuf),
    #[error("导出期间审计日志发生了不应有的变化 (the log changed under the export), 请运行 jiuzhu audit verify")]
    Changed,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SealError + '_ {
    move |source| SealError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The Beijing date of a stored timestamp.
fn beijing_date(at: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| jiuzhu_domain::clock::beijing_date(t.to_utc()))
}

/// Verifies the log, then writes the events of `from..=to` (Beijing dates) with their header
/// and seal to `out` (a new file).
pub async fn export(
    seal: &AuditSeal,
    store: &dyn Store,
    clock: &dyn Clock,
    from: NaiveDate,
    to: NaiveDate,
    out: &Path,
) -> Result<ExportHeader, ExportFailure> {
    if to < from {
        return Err(ExportFailure::BadPeriod { from, to });
    }
    if out.exists() {
        return Err(ExportFailure::Exists(out.to_path_buf()));
    }
    // Pass 1: the whole log verifies; note the first and the last event of the period.
    let mut first: Option<AuditRecord> = None;
    let mut last = ChainHead::genesis();
    let verification = seal
        .verify_observing(store, |r| {
            if beijing_date(&r.entry.at).is_some_and(|d| d >= from && d <= to) {
                first.get_or_insert_with(|| r.clone());
                last = ChainHead {
                    seq: r.seq,
                    hash: r.hash.clone(),
                };
            }
        })
        .await?;
    if let Some(p) = verification.problem {
        return Err(ExportFailure::NotIntact(p));
    }
    let Some(first) = first else {
        return Err(ExportFailure::Empty { from, to });
    };
    let header = ExportHeader {
        format: EXPORT_FORMAT.to_string(),
        from,
        to,
        after_seq: first.seq - 1,
        after_hash: first.prev_hash.clone(),
        first_seq: first.seq,
        last_seq: last.seq,
        last_hash: last.hash,
        events: last.seq - first.seq + 1,
        exported_at: format_time(clock.now()),
        key: seal.public().fingerprint().to_string(),
    };
    // Pass 2: write them under a temporary name, checking the links again on the way; the
    // finished file is linked to its name, which fails rather than overwrite.
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let written = write_export(seal, store, &header, &tmp)
        .await
        .and_then(|()| Ok(std::fs::hard_link(&tmp, out).map_err(io(out))?));
    let _ = std::fs::remove_file(&tmp);
    written.map(|()| header)
}

async fn write_export(
    seal: &AuditSeal,
    store: &dyn Store,
    header: &ExportHeader,
    tmp: &Path,
) -> Result<(), ExportFailure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(io(tmp))?;
    let mut digest = Sm3::new();
    let mut put = |line: &str| -> Result<(), SealError> {
        digest.update(line.as_bytes());
        file.write_all(line.as_bytes()).map_err(io(tmp))
    };
    put(&to_line(header))?;
    let mut chain = ChainVerifier::resume(header.after_seq, &header.after_hash);
    while chain.head().seq < header.last_seq {
        let after = chain.head().seq;
        let page = store
            .audit_page(after, PAGE.min(header.last_seq - after))
            .await
            .map_err(SealError::from)?;
        if page.is_empty() {
            return Err(ExportFailure::Changed);
        }
        for r in &page {
            chain
                .check(r)
                .map_err(|b| ExportFailure::NotIntact(Problem::Chain(b)))?;
            put(&to_line(r))?;
        }
    }
    if chain.head().hash != header.last_hash {
        return Err(ExportFailure::Changed);
    }
    let sealed = ExportSeal::sign(seal.key(), &hex::encode(digest.finalize()));
    file.write_all(to_line(&sealed).as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(io(tmp))?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyExportError {
    #[error("{}: {source}", path.display())]
    Key { path: PathBuf, source: KeyError },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("导出文件未通过校验 (the export does not verify): {0}")]
    Invalid(#[from] ExportError),
}

/// Checks an export with the public key alone.
pub fn verify_export(file: &Path, public_key: &Path) -> Result<ExportSummary, VerifyExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VerifyExportError::Io { path, source }
    };
    let pem = std::fs::read_to_string(public_key).map_err(io(public_key))?;
    let key = PublicSealKey::from_pem(&pem).map_err(|source| VerifyExportError::Key {
        path: public_key.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(File::open(file).map_err(io(file))?);
    let mut check = ExportCheck::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io(file))? == 0 {
            break;
        }
        check.line(&line)?;
    }
    Ok(check.finish(&key)?)
}
