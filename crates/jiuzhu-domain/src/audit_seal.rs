//! Keyed checkpoints of the audit chain: the chain head signed with SM2.
//!
//! The SM3 chain alone does not stop someone who can write the database: they can delete the
//! tail, or edit a row and recompute every later hash, and the chain is intact again. A
//! checkpoint is the head (seq and hash) signed with a key that lives outside the database and
//! written to a file outside it; a chain that no longer holds a checkpoint's seq with exactly
//! that hash was truncated or rebuilt, and only the key's holder can sign a new one.
//!
//! Pure: SM2 signing here is deterministic (RFC 6979), so nothing reads a clock or a random
//! source. The key files, the checkpoint file and the time are the caller's
//! (`jiuzhu_store::audit_seal`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToEncodedPoint;
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};

use crate::audit::{AuditRecord, GENESIS_HASH};

pub use sm2;

/// The signer's distinguishing identifier of SM2 (GM/T 0009's default), so that a checkpoint or
/// an export signature can be checked with other SM2 tools too (GmSSL `sm2verify`).
pub const SM2_ID: &str = "1234567812345678";

/// A key file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// The private key: signs checkpoints and exports.
#[derive(Clone)]
pub struct SealKey {
    secret: SecretKey,
    signing: SigningKey,
    public: PublicSealKey,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({})", self.public.fingerprint)
    }
}

impl SealKey {
    /// From a secret key the caller drew from the operating system's random source.
    pub fn from_secret(secret: &SecretKey) -> Result<SealKey, KeyError> {
        let signing = SigningKey::new(SM2_ID, secret)
            .map_err(|_| KeyError("不是有效的 SM2 私钥 (not an SM2 private key)".into()))?;
        let public = PublicSealKey::from_public(secret.public_key())?;
        Ok(SealKey {
            secret: secret.clone(),
            signing,
            public,
        })
    }

    /// A PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, OID 1.2.156.10197.1.301).
    pub fn from_pem(pem: &str) -> Result<SealKey, KeyError> {
        let secret = SecretKey::from_pkcs8_pem(pem).map_err(|e| {
            KeyError(format!(
                "不是 PKCS#8 PEM 格式的 SM2 私钥 (not a PKCS#8 PEM SM2 private key): {e}"
            ))
        })?;
        SealKey::from_secret(&secret)
    }

    pub fn to_pem(&self) -> String {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an SM2 key encodes as PKCS#8")
            .to_string()
    }

    pub fn public(&self) -> &PublicSealKey {
        &self.public
    }

    /// The SM2 signature of `message`, hex of r ‖ s (64 bytes).
    pub fn sign(&self, message: &[u8]) -> String {
        let sig: Signature = self.signing.sign(message);
        hex::encode(sig.to_bytes())
    }
}

/// The public key: enough to check checkpoints and exports.
#[derive(Clone)]
pub struct PublicSealKey {
    verifying: VerifyingKey,
    public: PublicKey,
    fingerprint: String,
}

impl fmt::Debug for PublicSealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicSealKey({})", self.fingerprint)
    }
}

impl PartialEq for PublicSealKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl PublicSealKey {
    fn from_public(public: PublicKey) -> Result<PublicSealKey, KeyError> {
        let verifying = VerifyingKey::new(SM2_ID, public)
            .map_err(|_| KeyError("不是有效的 SM2 公钥 (not an SM2 public key)".into()))?;
        let point = public.to_encoded_point(false);
        let digest = Sm3::digest(point.as_bytes());
        Ok(PublicSealKey {
            verifying,
            public,
            fingerprint: hex::encode(&digest[..16]),
        })
    }

    /// A PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<PublicSealKey, KeyError> {
        let public = PublicKey::from_public_key_pem(pem).map_err(|e| {
            KeyError(format!(
                "不是 PEM 格式的 SM2 公钥 (not a PEM SM2 public key): {e}"
            ))
        })?;
        PublicSealKey::from_public(public)
    }

    pub fn to_pem(&self) -> String {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .expect("an SM2 key encodes as SPKI")
    }

    /// The first 128 bits of SM3 over the uncompressed public key, hex: names the key in every
    /// checkpoint and export, and is what an operator compares with the copy kept on paper.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The fingerprint in groups of four, for people.
    pub fn fingerprint_grouped(&self) -> String {
        grouped(&self.fingerprint)
    }

    /// Whether `sig` (hex r ‖ s) is this key's SM2 signature of `message`.
    pub fn verify(&self, message: &[u8], sig: &str) -> bool {
        let Ok(bytes) = hex::decode(sig) else {
            return false;
        };
        let Ok(sig) = Signature::try_from(bytes.as_slice()) else {
            return false;
        };
        self.verifying.verify(message, &sig).is_ok()
    }
}

/// A fingerprint in groups of four (`ab12 cd34 …`), for people to compare.
pub fn grouped(fingerprint: &str) -> String {
    let chars: Vec<char> = fingerprint.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One signed record of the checkpoint file (one JSON line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// 1, 2, 3, … through the file, so a line removed from the middle leaves a gap.
    pub n: u64,
    /// The newest event's seq, which is also the number of events (seqs are dense from 1).
    pub seq: i64,
    /// That event's chain hash (the genesis hash when there are no events).
    pub hash: String,
    /// When it was signed, stored like audit timestamps (RFC 3339 UTC).
    pub at: String,
    /// The signing key's fingerprint.
    pub key: String,
    /// SM2 signature (hex r ‖ s) over [`Checkpoint::message`].
    pub sig: String,
}

impl Checkpoint {
    pub fn sign(key: &SealKey, n: u64, seq: i64, hash: &str, at: &str) -> Checkpoint {
        let mut c = Checkpoint {
            n,
            seq,
            hash: hash.to_string(),
            at: at.to_string(),
            key: key.public().fingerprint().to_string(),
            sig: String::new(),
        };
        c.sig = key.sign(&c.message());
        c
    }

    /// What is signed: every field, one a line, under a label no export statement shares.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "jiuzhu-audit-checkpoint/1\n{}\n{}\n{}\n{}\n{}\n",
            self.n, self.seq, self.hash, self.at, self.key
        )
        .into_bytes()
    }

    /// The line as written to the file, newline included (one `write` appends all of it).
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("plain fields");
        s.push('\n');
        s
    }

    /// Parses one line (without its newline) and checks its signature with `key`.
    pub fn from_line(line: &[u8], key: &PublicSealKey) -> Result<Checkpoint, LineError> {
        let c: Checkpoint = serde_json::from_slice(line).map_err(|_| LineError::Unreadable)?;
        if c.key != key.fingerprint() {
            return Err(LineError::OtherKey(c.key));
        }
        if !key.verify(&c.message(), &c.sig) {
            return Err(LineError::BadSignature);
        }
        Ok(c)
    }
}

/// Why one line of the checkpoint file is not a valid checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("不是检查点记录 (not a checkpoint record)")]
    Unreadable,
    #[error("由另一把密钥签名(指纹 {0})(signed with another key)")]
    OtherKey(String),
    #[error("签名无效,记录被改动过 (bad signature: the record was changed)")]
    BadSignature,
    #[error("编号或 seq 不连续,记录被删除或调换过 (out of order: records were removed or moved)")]
    OutOfOrder,
}

/// A checkpoint file that cannot be trusted, at its (1-based) line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("检查点文件第 {line} 行 (checkpoint file line {line}): {reason}")]
pub struct LogError {
    pub line: usize,
    pub reason: LineError,
}

/// The checkpoint file read and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointLog {
    pub checkpoints: Vec<Checkpoint>,
    /// The last line had no newline: a write cut short (a crash or power loss while
    /// appending). It is not a checkpoint and is left out; the next append cuts it off.
    pub torn_tail: bool,
}

impl CheckpointLog {
    pub fn newest(&self) -> Option<&Checkpoint> {
        self.checkpoints.last()
    }
}

/// The complete lines of a checkpoint file (without newlines) and whether a torn line follows.
pub fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, bool) {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // `split` yields a last piece after the final newline: empty when the file ends cleanly.
    let tail = lines.pop().unwrap_or_default();
    (lines, !tail.is_empty())
}

/// Reads a whole checkpoint file: every complete line must be a checkpoint signed by `key`,
/// numbered 1, 2, 3, … with seqs that never go down.
pub fn read_log(bytes: &[u8], key: &PublicSealKey) -> Result<CheckpointLog, LogError> {
    let (lines, torn_tail) = split_lines(bytes);
    let mut checkpoints: Vec<Checkpoint> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let at = |reason| LogError {
            line: i + 1,
            reason,
        };
        let c = Checkpoint::from_line(line, key).map_err(at)?;
        let in_order = match checkpoints.last() {
            Some(prev) => c.n == prev.n + 1 && c.seq >= prev.seq,
            None => c.n == 1,
        };
        if !in_order {
            return Err(at(LineError::OutOfOrder));
        }
        checkpoints.push(c);
    }
    Ok(CheckpointLog {
        checkpoints,
        torn_tail,
    })
}

/// How a chain fails its checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealBreak {
    #[error(
        "审计日志被截断 (audit log truncated): 检查点 #{n}(北京时间 {at})记录了 {seq} 条事件,\
         数据库中只有 {held} 条"
    )]
    Truncated {
        n: u64,
        seq: i64,
        at: String,
        held: i64,
    },
    #[error(
        "审计链被重写 (audit chain rewritten): 事件 seq {seq} 的哈希与检查点 #{n}(北京时间 {at})\
         签名的不同"
    )]
    Rewritten { n: u64, seq: i64, at: String },
}

/// Checks a chain, event by event in seq order, against checkpoints: every checkpoint's seq
/// must be held with exactly its hash. Feed each event the [`ChainVerifier`] accepted to
/// [`SealCheck::check`], then call [`SealCheck::finish`] with the newest seq.
///
/// [`ChainVerifier`]: crate::audit::ChainVerifier
#[derive(Debug, Clone)]
pub struct SealCheck<'a> {
    checkpoints: &'a [Checkpoint],
    next: usize,
}

impl<'a> SealCheck<'a> {
    pub fn new(checkpoints: &'a [Checkpoint]) -> Result<SealCheck<'a>, SealBreak> {
        let mut s = SealCheck {
            checkpoints,
            next: 0,
        };
        // Checkpoints of an empty chain (seq 0) name the genesis hash.
        s.consume(0, GENESIS_HASH)?;
        Ok(s)
    }

    fn consume(&mut self, seq: i64, hash: &str) -> Result<(), SealBreak> {
        while let Some(c) = self.checkpoints.get(self.next).filter(|c| c.seq == seq) {
            if c.hash != hash {
                return Err(SealBreak::Rewritten {
                    n: c.n,
                    seq,
                    at: crate::audit::beijing_time(&c.at),
                });
            }
            self.next += 1;
        }
        Ok(())
    }

    pub fn check(&mut self, r: &AuditRecord) -> Result<(), SealBreak> {
        self.consume(r.seq, &r.hash)
    }

    /// After the last event (`head_seq`): a checkpoint beyond it means events were removed.
    pub fn finish(self, head_seq: i64) -> Result<(), SealBreak> {
        match self
            .checkpoints
            .get(self.next..)
            .and_then(|rest| rest.last())
        {
            Some(c) => Err(SealBreak::Truncated {
                n: c.n,
                seq: c.seq,
                at: crate::audit::beijing_time(&c.at),
                held: head_seq,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealKey {
        let secret = SecretKey::from_slice(&[byte; 32]).unwrap();
        SealKey::from_secret(&secret).unwrap()
    }

    fn log(k: &SealKey, heads: &[(i64, &str)]) -> Vec<u8> {
        heads
            .iter()
            .enumerate()
            .map(|(i, (seq, hash))| {
                Checkpoint::sign(k, i as u64 + 1, *seq, hash, "2026-11-23T07:00:00.000000Z")
                    .to_line()
            })
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn keys_round_trip_through_pem_and_sign_deterministically() {
        let k = key(7);
        let again = SealKey::from_pem(&k.to_pem()).unwrap();
        assert_eq!(again.public(), k.public());
        let public = PublicSealKey::from_pem(&k.public().to_pem()).unwrap();
        assert_eq!(public.fingerprint(), k.public().fingerprint());
        assert_eq!(k.public().fingerprint().len(), 32);
        let sig = k.sign(b"abc");
        assert_eq!(sig, k.sign(b"abc"), "RFC 6979: no randomness needed");
        assert!(public.verify(b"abc", &sig));
        assert!(!public.verify(b"abd", &sig));
        assert!(!key(8).public().verify(b"abc", &sig));
        assert!(SealKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n").is_err());
    }

    #[test]
    fn the_log_is_read_in_order_and_a_torn_last_line_is_left_out() {
        let k = key(7);
        let mut bytes = log(&k, &[(0, GENESIS_HASH), (5, "aa"), (9, "bb")]);
        let read = read_log(&bytes, k.public()).unwrap();
        assert_eq!(read.checkpoints.len(), 3);
        assert_eq!(read.newest().unwrap().seq, 9);
        assert!(!read.torn_tail);

        bytes.extend_from_slice(br#"{"n":4,"seq":12,"ha"#);
        let read = read_log(&bytes, k.public()).unwrap();
        assert_eq!(read.checkpoints.len(), 3);
        assert!(read.torn_tail);
    }

    #[test]
    fn an_edited_removed_or_foreign_line_is_named() {
        let k = key(7);
        let good = log(&k, &[(3, "aa"), (5, "bb"), (9, "cc")]);
        let text = String::from_utf8(good.clone()).unwrap();

        let edited = text.replacen("\"seq\":5", "\"seq\":4", 1);
        let err = read_log(edited.as_bytes(), k.public()).unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.reason, LineError::BadSignature);

        let lines: Vec<&str> = text.lines().collect();
        let removed = format!("{}\n{}\n", lines[0], lines[2]);
        let err = read_log(removed.as_bytes(), k.public()).unwrap_err();
        assert_eq!((err.line, err.reason), (2, LineError::OutOfOrder));

        let err = read_log(&good, key(8).public()).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(matches!(err.reason, LineError::OtherKey(_)));
        assert!(err.to_string().contains("检查点文件第 1 行"), "{err}");
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let entry = crate::audit::AuditEntry {
                    at: "2026-11-23T07:00:00.000000Z".into(),
                    actor_user_id: None,
                    actor_name: "system".into(),
                    origin: "cli".into(),
                    action: crate::AuditAction::UserCreated,
                    record_kind: "user".into(),
                    record_id: Some(seq.to_string()),
                    division: None,
                    before: None,
                    after: None,
                    detail: None,
                };
                let hash = crate::audit::chain_hash(&prev, seq, &entry);
                AuditRecord {
                    seq,
                    entry,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                }
            })
            .collect()
    }

    fn seal_check(records: &[AuditRecord], cps: &[Checkpoint]) -> Result<(), SealBreak> {
        let mut s = SealCheck::new(cps)?;
        records.iter().try_for_each(|r| s.check(r))?;
        s.finish(records.last().map_or(0, |r| r.seq))
    }

    #[test]
    fn a_chain_must_hold_every_checkpoint() {
        let k = key(7);
        let full = chain(5);
        let at = "2026-11-23T07:00:00.000000Z";
        let cps = vec![
            Checkpoint::sign(&k, 1, 0, GENESIS_HASH, at),
            Checkpoint::sign(&k, 2, 3, &full[2].hash, at),
            Checkpoint::sign(&k, 3, 5, &full[4].hash, at),
        ];
        assert_eq!(seal_check(&full, &cps), Ok(()));
        // Events after the newest checkpoint are the window: not covered, not an error.
        assert_eq!(seal_check(&chain(7)[..], &cps[..2]), Ok(()));

        let err = seal_check(&full[..4], &cps).unwrap_err();
        assert_eq!(
            err,
            SealBreak::Truncated {
                n: 3,
                seq: 5,
                at: "2026-11-23 15:00:00".into(),
                held: 4
            }
        );
        assert!(
            err.to_string()
                .contains("记录了 5 条事件,数据库中只有 4 条"),
            "{err}"
        );
        assert!(matches!(
            seal_check(&[], &cps),
            Err(SealBreak::Truncated { held: 0, .. })
        ));

        // A rebuilt chain (one event changed, every later hash recomputed) is internally intact
        // but not the chain that was signed.
        let mut rebuilt = full.clone();
        rebuilt[1].entry.detail = Some("changed".into());
        let mut prev = rebuilt[0].hash.clone();
        for r in &mut rebuilt[1..] {
            r.prev_hash = prev.clone();
            r.hash = crate::audit::chain_hash(&prev, r.seq, &r.entry);
            prev = r.hash.clone();
        }
        let err = seal_check(&rebuilt, &cps).unwrap_err();
        assert!(
            matches!(err, SealBreak::Rewritten { n: 2, seq: 3, .. }),
            "{err}"
        );
    }
}
