//! Field encryption at rest (docs/security.md, "Encryption at rest").
//!
//! Bank accounts, illness notes and phone numbers are stored as SM4-GCM ciphertexts (SM4 of
//! GB/T 32907 in the GCM mode of GB/T 17964), each with a random 96-bit nonce and, as associated
//! data, the table, column and row (person id and row version) it belongs to, so a ciphertext
//! copied to another row or field no longer decrypts. A ciphertext is text:
//! `sm4gcm:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`; the key id names the key of the key
//! file that made it, so a newer key can be added (rotation) while older values stay readable.
//!
//! A value that must be found by exact match (the bank account) also gets a blind index:
//! HMAC-SM3 under a second key over the normalised value, in a column of its own.
//!
//! The keys live in a file outside the database (mode 0600, like the audit signing key):
//!
//! ```text
//! jiuzhu-data-key/1
//! index <64 hex: the HMAC-SM3 key of the blind indexes>
//! key <8 hex: key id> <32 hex: the SM4 key>
//! ```
//!
//! with one `key` line per key, the last one encrypting.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sm3::{Digest, Sm3};
use sm4::Sm4;

use crate::private_fs;

/// The default name of the key file, in the data directory.
pub const DATA_KEY_FILE: &str = "data-encryption.key";

/// The key file a database URL uses by default: [`DATA_KEY_FILE`] in its data directory
/// (beside a SQLite file, `data/` otherwise).
pub fn default_path(database_url: &str) -> PathBuf {
    crate::kept::FeedFiles::default_dir(database_url).join(DATA_KEY_FILE)
}

/// What every ciphertext starts with.
pub const PREFIX: &str = "sm4gcm:";

const HEADER: &str = "jiuzhu-data-key/1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

type Sm4Gcm = AesGcm<Sm4, U12>;
type HmacSm3 = Hmac<Sm3>;

/// Where a value is stored: its table, column and row. It is the ciphertext's associated data.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: &'a str,
}

impl Slot<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "jiuzhu-field/1\n{}\n{}\n{}",
            self.table, self.column, self.row
        )
        .into_bytes()
    }
}

#[derive(Clone)]
struct FieldKey {
    id: String,
    secret: [u8; 16],
    cipher: Sm4Gcm,
}

impl FieldKey {
    fn new(secret: [u8; 16]) -> FieldKey {
        FieldKey {
            id: key_id(&secret),
            cipher: Sm4Gcm::new(&secret.into()),
            secret,
        }
    }
}

/// A key's name: the first 32 bits of SM3 over a label and the key, in hex.
fn key_id(secret: &[u8; 16]) -> String {
    let mut h = Sm3::new();
    h.update(b"jiuzhu-data-key-id/1\n");
    h.update(secret);
    hex::encode(&h.finalize()[..4])
}

/// The data keys: the SM4 keys by id (the last one encrypts) and the blind-index key.
#[derive(Clone)]
pub struct DataKeys {
    keys: Vec<FieldKey>,
    index_secret: [u8; 32],
    index: HmacSm3,
}

impl std::fmt::Debug for DataKeys {
    // Never the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys")
            .field("ids", &self.ids())
            .finish_non_exhaustive()
    }
}

/// A stored value that does not decrypt: made with a key this file does not hold, edited, or
/// moved from another row or field.
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt {table}.{column} of row {row}: {reason}")]
pub struct DecryptError {
    pub table: String,
    pub column: String,
    pub row: String,
    pub reason: &'static str,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

impl DataKeys {
    /// New random keys (a first start; tests).
    pub fn generate() -> DataKeys {
        DataKeys::from_parts(vec![random()], random())
    }

    fn from_parts(secrets: Vec<[u8; 16]>, index_secret: [u8; 32]) -> DataKeys {
        DataKeys {
            keys: secrets.into_iter().map(FieldKey::new).collect(),
            index: <HmacSm3 as Mac>::new_from_slice(&index_secret)
                .expect("HMAC takes any key length"),
            index_secret,
        }
    }

    /// The ids of the keys, oldest first; the last one encrypts.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    pub fn active_id(&self) -> &str {
        &self.active().id
    }

    fn active(&self) -> &FieldKey {
        self.keys.last().expect("a key file has a key")
    }

    /// A value fingerprinting the blind-index key, kept in the database so that a key file with
    /// another index key is refused instead of silently finding nothing.
    pub fn index_check(&self) -> String {
        self.mac(b"check", b"jiuzhu-blind-index-check/1")
    }

    fn mac(&self, field: &[u8], value: &[u8]) -> String {
        let mut m = self.index.clone();
        m.update(field);
        m.update(b"\0");
        m.update(value);
        hex::encode(&m.finalize().into_bytes()[..16])
    }

    /// The blind index of a bank account: HMAC-SM3 over the digits and letters only, so that
    /// `6222 0202 0011 2233 445` and `6222020200112233445` index alike.
    pub fn bank_account_index(&self, account: &str) -> String {
        let normal: String = account
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.mac(b"bank_account", normal.as_bytes())
    }

    /// Encrypts `plain` for `slot` with the newest key and a fresh random nonce.
    pub fn encrypt(&self, slot: Slot<'_>, plain: &str) -> String {
        let key = self.active();
        // The thread's CSPRNG (ChaCha, seeded and reseeded from the OS): a system call per
        // value would cost a bulk import more than the encryption itself.
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &slot.aad(),
                },
            )
            .expect("SM4-GCM encrypts any short value");
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", key.id, B64.encode(raw))
    }

    /// Decrypts a stored value of `slot`.
    pub fn decrypt(&self, slot: Slot<'_>, stored: &str) -> Result<String, DecryptError> {
        let fail = |reason| DecryptError {
            table: slot.table.to_string(),
            column: slot.column.to_string(),
            row: slot.row.to_string(),
            reason,
        };
        let (id, body) = stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or_else(|| fail("not a ciphertext"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| fail("made with a key the key file does not hold"))?;
        let raw = B64.decode(body).map_err(|_| fail("not base64"))?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(fail("too short"));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: &slot.aad(),
                },
            )
            .map_err(|_| fail("authentication failed (edited, moved or another key)"))?;
        String::from_utf8(plain).map_err(|_| fail("not UTF-8"))
    }

    /// Whether a stored value is a ciphertext of the newest key (else the start-up migration
    /// encrypts or re-encrypts it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.active_id())
    }

    fn to_text(&self) -> String {
        let mut s = format!(
            "{HEADER}\n# jiuzhu 数据加密密钥 (SM4 field keys and the HMAC-SM3 blind-index key).\n\
             # Back it up apart from the database; without it the encrypted fields are lost.\n\
             index {}\n",
            hex::encode(self.index_secret)
        );
        for k in &self.keys {
            s.push_str(&format!("key {} {}\n", k.id, hex::encode(k.secret)));
        }
        s
    }

    fn parse(text: &str) -> Result<DataKeys, &'static str> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(HEADER) {
            return Err("the first line is not jiuzhu-data-key/1");
        }
        let mut index = None;
        let mut secrets = Vec::new();
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["index", h] => {
                    let mut b = [0u8; 32];
                    hex::decode_to_slice(h, &mut b).map_err(|_| "the index key is not 64 hex")?;
                    index = Some(b);
                }
                ["key", id, h] => {
                    let mut b = [0u8; 16];
                    hex::decode_to_slice(h, &mut b).map_err(|_| "a key is not 32 hex")?;
                    if key_id(&b) != *id {
                        return Err("a key does not match its id (the line was changed)");
                    }
                    secrets.push(b);
                }
                _ => return Err("a line is neither `index …` nor `key …`"),
            }
        }
        let index = index.ok_or("no index key")?;
        if secrets.is_empty() {
            return Err("no key");
        }
        Ok(DataKeys::from_parts(secrets, index))
    }

    /// Loads the key file; refuses one that others can read.
    pub fn load(path: &Path) -> Result<DataKeys, DataKeyError> {
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(DataKeyError::Mode {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        DataKeys::parse(&text).map_err(|reason| DataKeyError::Bad {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Creates a key file with new random keys (never over an existing file).
    pub fn create(path: &Path) -> Result<DataKeys, DataKeyError> {
        let keys = DataKeys::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir(dir).map_err(|e| io(dir, e))?;
        }
        write_file(path, keys.to_text().as_bytes(), false)?;
        Ok(keys)
    }

    /// Adds a new SM4 key to the key file, which from the next start encrypts (the start-up
    /// migration re-encrypts the older values); the blind-index key stays. The file is replaced
    /// in one piece; the older keys stay in it.
    pub fn rotate(path: &Path) -> Result<DataKeys, DataKeyError> {
        let mut keys = DataKeys::load(path)?;
        keys.keys.push(FieldKey::new(random()));
        write_file(path, keys.to_text().as_bytes(), true)?;
        Ok(keys)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataKeyError {
    #[error(
        "找不到数据加密密钥 {} (data encryption key not found),而数据库中已有用密钥 {ids} 加密的数据:\
         不会生成新密钥 (the database holds data encrypted with it; no new key is made)。\
         用 --data-key 或 JIUZHU_DATA_KEY 指定原来的密钥文件 (docs/security.md)", path.display()
    )]
    Missing { path: PathBuf, ids: String },
    #[error(
        "数据加密密钥 {} 与数据库不符 (the key file does not match the database): {reason}。\
         用 --data-key 或 JIUZHU_DATA_KEY 指定该数据库的密钥文件 (docs/security.md)", path.display()
    )]
    Mismatch { path: PathBuf, reason: String },
    #[error(
        "数据加密密钥 {} 的权限为 {mode:04o},其他用户可读 (readable by others);请执行 chmod 600 {}",
        path.display(), path.display()
    )]
    Mode { path: PathBuf, mode: u32 },
    #[error("数据加密密钥 {} 无法读取 (unreadable key file): {reason}", path.display())]
    Bad { path: PathBuf, reason: &'static str },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl DataKeyError {
    /// The key file does not exist (as opposed to being unreadable).
    pub fn is_not_found(&self) -> bool {
        matches!(self, DataKeyError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn io(path: &Path, source: std::io::Error) -> DataKeyError {
    DataKeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the key file (mode 0600) in one piece (`replace`: over the existing one).
fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), DataKeyError> {
    let existing = if replace {
        private_fs::Existing::Replace
    } else {
        private_fs::Existing::Keep
    };
    private_fs::write_whole(path, bytes, existing).map_err(|e| io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOT: Slot<'static> = Slot {
        table: "persons",
        column: "bank_account",
        row: "7/1",
    };

    #[test]
    fn a_value_decrypts_only_in_its_own_slot() {
        let keys = DataKeys::generate();
        let c = keys.encrypt(SLOT, "6222020200112233445");
        assert!(c.starts_with(&format!("sm4gcm:{}:", keys.active_id())));
        assert!(!c.contains("6222020200112233445"));
        assert_eq!(keys.decrypt(SLOT, &c).unwrap(), "6222020200112233445");
        // A fresh nonce each time.
        assert_ne!(c, keys.encrypt(SLOT, "6222020200112233445"));
        for other in [
            Slot { row: "8/1", ..SLOT },
            Slot { row: "7/2", ..SLOT },
            Slot {
                column: "illness_note",
                ..SLOT
            },
            Slot {
                table: "person_history",
                ..SLOT
            },
        ] {
            assert!(keys.decrypt(other, &c).is_err(), "{other:?}");
        }
        assert!(DataKeys::generate().decrypt(SLOT, &c).is_err());
    }

    #[test]
    fn an_edited_ciphertext_is_refused() {
        let keys = DataKeys::generate();
        let c = keys.encrypt(SLOT, "慢性肾功能衰竭尿毒症期");
        let mut bytes = c.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(bytes).unwrap();
        assert!(keys.decrypt(SLOT, &edited).is_err());
    }

    #[test]
    fn the_key_file_round_trips_and_rotation_keeps_old_values_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATA_KEY_FILE);
        let keys = DataKeys::create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(DataKeys::create(&path).is_err(), "never overwritten");
        let old = keys.encrypt(SLOT, "13800138000");
        let rotated = DataKeys::rotate(&path).unwrap();
        let loaded = DataKeys::load(&path).unwrap();
        assert_eq!(loaded.ids(), rotated.ids());
        assert_eq!(loaded.ids().len(), 2);
        assert_ne!(loaded.active_id(), keys.active_id());
        assert!(!loaded.is_current(&old));
        assert_eq!(loaded.decrypt(SLOT, &old).unwrap(), "13800138000");
        assert_eq!(loaded.index_check(), keys.index_check());
        assert_eq!(
            loaded.bank_account_index("6222 0202 0011 2233 445"),
            keys.bank_account_index("6222020200112233445")
        );
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATA_KEY_FILE);
        DataKeys::create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = DataKeys::load(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
