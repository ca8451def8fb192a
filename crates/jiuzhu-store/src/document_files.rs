//! The files directory of the one-person-one-file archive: content-addressed, write-once.
//!
//! A file is stored under `sha256/<first two hex>/<sha256>`; the same content uploaded twice is
//! stored once, and nothing here ever deletes or overwrites a file (a withdrawn document keeps
//! its file: an archive does not lose papers). Writes go to a temporary file in the same
//! directory, are fsynced and then renamed into place, so a crash never leaves a half file under
//! a content name.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A stored file's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// The path relative to the files directory.
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

/// A file type the archive accepts, recognised by its first bytes (never by name or declared
/// content type, which the client chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
}

impl FileKind {
    pub const ALL: &'static [FileKind] = &[FileKind::Pdf, FileKind::Jpeg, FileKind::Png];
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else {
            None
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF",
            FileKind::Jpeg => "JPG",
            FileKind::Png => "PNG",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }
    pub fn parse(s: &str) -> Option<FileKind> {
        let s = s.trim().to_ascii_lowercase();
        FileKind::ALL
            .iter()
            .copied()
            .find(|k| k.code() == s || (s == "jpg" && *k == FileKind::Jpeg))
    }
    pub fn from_content_type(ct: &str) -> Option<FileKind> {
        FileKind::ALL
            .iter()
            .copied()
            .find(|k| k.content_type() == ct)
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> FileStore {
        FileStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn key_of(sha: &str) -> String {
        format!("sha256/{}/{}", &sha[..2], sha)
    }

    /// Where a key lives, if it is a key this store made (so a stored key can never point
    /// outside the directory).
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let mut parts = key.split('/');
        let (Some("sha256"), Some(dir), Some(sha), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        (is_hex64(sha) && dir == &sha[..2]).then(|| self.root.join("sha256").join(dir).join(sha))
    }

    /// Stores `bytes` (blocking I/O: call from `spawn_blocking`).
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<Stored> {
        let sha = hex::encode(Sha256::digest(bytes));
        let key = Self::key_of(&sha);
        let path = self.path_of(&key).expect("a key this store made");
        if path.exists() {
            return Ok(Stored { sha256: sha, key });
        }
        let dir = path.parent().expect("key has a directory");
        if !dir.is_dir() {
            // Every level the store makes is the service's alone (0700), the root included.
            crate::private_fs::create_dir(&self.root)?;
            crate::private_fs::create_dir(&self.root.join("sha256"))?;
            crate::private_fs::create_dir(dir)?;
        }
        let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        {
            let mut f = crate::private_fs::create_file(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        // The rename itself is durable only once the directory is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(Stored { sha256: sha, key })
    }

    /// Reads a stored file (blocking I/O), checking that it still has its content's hash.
    pub fn get(&self, key: &str, sha256: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path_of(key).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a storage key")
        })?;
        let bytes = std::fs::read(path)?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("stored file {key} does not match its SHA-256"),
            ));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_is_stored_once_and_keys_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileStore::new(dir.path());
        let a = fs.put(b"%PDF-1.4 a").unwrap();
        let b = fs.put(b"%PDF-1.4 a").unwrap();
        assert_eq!(a, b);
        assert_eq!(fs.get(&a.key, &a.sha256).unwrap(), b"%PDF-1.4 a");
        let files: Vec<_> = std::fs::read_dir(dir.path().join("sha256").join(&a.sha256[..2]))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        assert!(fs.get("../etc/passwd", &a.sha256).is_err());
        assert!(fs.path_of(&format!("sha256/zz/{}", a.sha256)).is_none());
    }

    #[test]
    fn kinds_by_their_first_bytes() {
        assert_eq!(FileKind::sniff(b"MZ\x90\x00"), None);
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(FileKind::Png)
        );
        assert_eq!(FileKind::parse("JPG"), Some(FileKind::Jpeg));
    }
}
