//! A signed export of a period of the audit log, checkable with the public key alone.
//!
//! GB/T 22239 level 3 wants audit records protected and kept at least six months; the export
//! is how a period leaves the system (to an archive, an auditor, a court) and stays provable.
//! The file is JSON lines:
//!
//! 1. the header ([`ExportHeader`]): the period, the chain position the export starts from
//!    (the event before its first: seq and hash), its first and last event and their count;
//! 2. every event of the period as stored ([`AuditRecord`], whose copies are masked);
//! 3. the seal ([`ExportSeal`]): SM3 over every byte before it, and the SM2 signature of a
//!    statement naming that digest and the key.
//!
//! Pure: lines in, verdicts out; reading and writing the file is the caller's.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use crate::audit::{AuditRecord, ChainBreak, ChainVerifier};
use crate::audit_seal::{PublicSealKey, SealKey};

pub const EXPORT_FORMAT: &str = "jiuzhu-audit-export/1";

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    pub format: String,
    /// The period, both days included, in Beijing time.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Where the export starts in the chain: the event before its first (seq 0 and the genesis
    /// hash when it starts at the beginning of the log).
    pub after_seq: i64,
    pub after_hash: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub last_hash: String,
    pub events: i64,
    /// When the export was made (RFC 3339 UTC).
    pub exported_at: String,
    /// The signing key's fingerprint.
    pub key: String,
}

/// The last line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSeal {
    /// SM3 of every byte of the file before this line, hex.
    pub sm3: String,
    pub key: String,
    /// SM2 signature (hex r ‖ s) of [`ExportSeal::statement`].
    pub sig: String,
}

impl ExportSeal {
    fn statement(sm3: &str, key: &str) -> Vec<u8> {
        format!("{EXPORT_FORMAT}\n{sm3}\n{key}\n").into_bytes()
    }

    pub fn sign(key: &SealKey, body_sm3: &str) -> ExportSeal {
        let fp = key.public().fingerprint().to_string();
        ExportSeal {
            sig: key.sign(&ExportSeal::statement(body_sm3, &fp)),
            sm3: body_sm3.to_string(),
            key: fp,
        }
    }
}

/// A JSON line of the file (header, event or seal), newline included.
pub fn to_line<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string(value).expect("plain values");
    s.push('\n');
    s
}

/// Why an export is not what was signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("第 1 行不是审计日志导出文件的头 (line 1 is not an audit export header)")]
    NotAnExport,
    #[error("第 {0} 行不是审计事件 (line {0} is not an audit event)")]
    BadEvent(usize),
    #[error("第 {line} 行 (line {line}): {brk}")]
    Chain { line: usize, brk: ChainBreak },
    #[error("文件不完整:缺少末尾的签名行 (incomplete file: the signature line is missing)")]
    NoSeal,
    #[error("文件内容与签名时不同 (the content changed after it was signed)")]
    Digest,
    #[error(
        "文件由另一把密钥签名(指纹 {0}),不是所给公钥 (signed with another key than the one given)"
    )]
    OtherKey(String),
    #[error("签名无效 (bad signature)")]
    BadSignature,
    #[error("文件头与内容不符 (the header does not match the content): {0}")]
    HeaderMismatch(&'static str),
}

/// What a good export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub header: ExportHeader,
}

/// Checks an export line by line: feed every line (newline included) to [`ExportCheck::line`],
/// then [`ExportCheck::finish`] with the public key. The last line fed is taken as the seal.
#[derive(Debug, Default)]
pub struct ExportCheck {
    digest: Sm3,
    header: Option<ExportHeader>,
    chain: Option<ChainVerifier>,
    /// The line read last: the seal if no other line follows it.
    pending: Option<Vec<u8>>,
    lines: usize,
}

impl ExportCheck {
    pub fn new() -> ExportCheck {
        ExportCheck::default()
    }

    pub fn line(&mut self, line: &[u8]) -> Result<(), ExportError> {
        if let Some(prev) = self.pending.replace(line.to_vec()) {
            self.content(&prev)?;
        }
        Ok(())
    }

    /// A header or event line (everything the digest covers).
    fn content(&mut self, line: &[u8]) -> Result<(), ExportError> {
        self.lines += 1;
        self.digest.update(line);
        let Some(chain) = self.chain.as_mut() else {
            let header: ExportHeader =
                serde_json::from_slice(line).map_err(|_| ExportError::NotAnExport)?;
            if header.format != EXPORT_FORMAT {
                return Err(ExportError::NotAnExport);
            }
            self.chain = Some(ChainVerifier::resume(header.after_seq, &header.after_hash));
            self.header = Some(header);
            return Ok(());
        };
        let at = self.lines;
        let record: AuditRecord =
            serde_json::from_slice(line).map_err(|_| ExportError::BadEvent(at))?;
        chain
            .check(&record)
            .map_err(|brk| ExportError::Chain { line: at, brk })
    }

    pub fn finish(self, key: &PublicSealKey) -> Result<ExportSummary, ExportError> {
        let (Some(seal_line), Some(header), Some(chain)) = (self.pending, self.header, self.chain)
        else {
            return Err(ExportError::NoSeal);
        };
        let seal: ExportSeal = seal_line
            .strip_suffix(b"\n")
            .and_then(|l| serde_json::from_slice(l).ok())
            .ok_or(ExportError::NoSeal)?;
        if hex::encode(self.digest.finalize()) != seal.sm3 {
            return Err(ExportError::Digest);
        }
        if seal.key != key.fingerprint() {
            return Err(ExportError::OtherKey(seal.key));
        }
        if !key.verify(&ExportSeal::statement(&seal.sm3, &seal.key), &seal.sig) {
            return Err(ExportError::BadSignature);
        }
        // Signed and unchanged; the header must still describe what follows it.
        let end = chain.head();
        if chain.checked as i64 != header.events {
            return Err(ExportError::HeaderMismatch("events"));
        }
        if header.events > 0 && header.first_seq != header.after_seq + 1 {
            return Err(ExportError::HeaderMismatch("first_seq"));
        }
        if end.seq != header.last_seq || end.hash != header.last_hash {
            return Err(ExportError::HeaderMismatch("last_seq"));
        }
        Ok(ExportSummary { header })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{chain_hash, AuditAction, AuditEntry};
    use sm2::SecretKey;

    fn key(byte: u8) -> SealKey {
        SealKey::from_secret(&SecretKey::from_slice(&[byte; 32]).unwrap()).unwrap()
    }

    /// Events 1..=5, exported from 3 to 5.
    fn export(k: &SealKey) -> Vec<String> {
        let mut prev = crate::audit::GENESIS_HASH.to_string();
        let mut records = Vec::new();
        for seq in 1..=5 {
            let entry = AuditEntry {
                at: format!("2026-06-0{seq}T02:00:00.000000Z"),
                actor_user_id: None,
                actor_name: "system".into(),
                origin: "cli".into(),
                action: AuditAction::PersonUpdated,
                record_kind: "person".into(),
                record_id: Some(seq.to_string()),
                division: Some("371002001201".into()),
                before: Some(serde_json::json!({"name": "王芳", "id": "371002************"})),
                after: None,
                detail: None,
            };
            let hash = chain_hash(&prev, seq, &entry);
            records.push(AuditRecord {
                seq,
                entry,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            });
        }
        let header = ExportHeader {
            format: EXPORT_FORMAT.into(),
            from: NaiveDate::from_ymd_opt(2026, 6, 3).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 6, 5).unwrap(),
            after_seq: 2,
            after_hash: records[1].hash.clone(),
            first_seq: 3,
            last_seq: 5,
            last_hash: records[4].hash.clone(),
            events: 3,
            exported_at: "2026-12-01T02:00:00.000000Z".into(),
            key: k.public().fingerprint().into(),
        };
        let mut lines = vec![to_line(&header)];
        lines.extend(records[2..].iter().map(to_line));
        let digest = hex::encode(Sm3::digest(lines.concat().as_bytes()));
        lines.push(to_line(&ExportSeal::sign(k, &digest)));
        lines
    }

    fn check(lines: &[String], key: &PublicSealKey) -> Result<ExportSummary, ExportError> {
        let mut c = ExportCheck::new();
        for l in lines {
            c.line(l.as_bytes())?;
        }
        c.finish(key)
    }

    #[test]
    fn a_signed_export_checks_with_the_public_key_and_an_edit_does_not() {
        let k = key(3);
        let lines = export(&k);
        let s = check(&lines, k.public()).unwrap();
        assert_eq!((s.header.first_seq, s.header.events), (3, 3));

        assert_eq!(
            check(&lines, key(4).public()),
            Err(ExportError::OtherKey(k.public().fingerprint().into()))
        );

        let mut edited = lines.clone();
        edited[2] = edited[2].replace("王芳", "李强");
        assert!(matches!(
            check(&edited, k.public()),
            Err(ExportError::Chain { line: 3, .. })
        ));

        let mut dropped = lines.clone();
        dropped.remove(2);
        assert!(matches!(
            check(&dropped, k.public()),
            Err(ExportError::Chain { line: 3, .. })
        ));

        let mut unsealed = lines.clone();
        unsealed.pop();
        assert_eq!(check(&unsealed, k.public()), Err(ExportError::NoSeal));

        // The last event removed and the header and seal made again without the key: the
        // signature no longer matches.
        let mut forged = lines.clone();
        forged.remove(3);
        forged.pop();
        let digest = hex::encode(Sm3::digest(forged.concat().as_bytes()));
        let other = ExportSeal::sign(&key(4), &digest);
        forged.push(to_line(&ExportSeal {
            key: k.public().fingerprint().into(),
            ..other
        }));
        assert_eq!(check(&forged, k.public()), Err(ExportError::BadSignature));
    }
}
