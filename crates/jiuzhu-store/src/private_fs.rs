//! Files and folders only the service account may read (docs/security.md, "File permissions"):
//! every file jiuzhu keeps — the SQLite database and its `-wal`/`-shm`, documents, feed
//! deliveries, staged uploads, keys, checkpoints — is created with mode 0600 and every folder it
//! makes with 0700; [`tighten`] brings those made before (or by hand) to the same modes at start.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and any missing parents with mode 0700 (parents that exist are left alone;
/// `dir` itself is tightened if it existed).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    set_mode(dir, DIR_MODE)
}

/// Creates a new file of mode 0600 for writing; fails if it exists.
pub fn create_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Whether [`write_whole`] may replace a file of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Fail if the name exists (a key is never overwritten).
    Keep,
    /// Rename over it (a key file with a key added).
    Replace,
}

/// Writes a whole small file of mode 0600 so that a crash leaves the old file or the new one,
/// never a part: to a temporary name, synced, then linked or renamed to `path`, and the folder
/// synced so that the new name is durable.
pub fn write_whole(path: &Path, bytes: &[u8], existing: Existing) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| {
        let mut f = create_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        match existing {
            Existing::Keep => std::fs::hard_link(&tmp, path),
            Existing::Replace => std::fs::rename(&tmp, path),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    sync_parent(path)
}

/// Makes a new directory entry of `path` durable.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// [`create_file`] for async writers (uploads streamed to a staged file).
pub async fn create_file_async(path: &Path) -> std::io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .await
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o7777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Gives `path` mode 0600 if it is a file and 0700 if it is a folder, and everything inside a
/// folder the same, recursively; symbolic links are not followed. A missing path is not an
/// error. Returns how many modes were changed.
pub fn tighten(path: &Path) -> std::io::Result<usize> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mode = meta.permissions().mode() & 0o7777;
    let mut changed = 0;
    if meta.is_dir() {
        if mode != DIR_MODE {
            std::fs::set_permissions(path, Permissions::from_mode(DIR_MODE))?;
            changed += 1;
        }
        for entry in std::fs::read_dir(path)? {
            changed += tighten(&entry?.path())?;
        }
    } else if meta.is_file() && mode != FILE_MODE {
        std::fs::set_permissions(path, Permissions::from_mode(FILE_MODE))?;
        changed += 1;
    }
    Ok(changed)
}

/// [`tighten`] on one file or folder only, not what a folder holds.
pub fn tighten_one(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => set_mode(path, DIR_MODE),
        Ok(m) if m.is_file() => set_mode(path, FILE_MODE),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether a file's mode lets anyone but its owner read or write it.
pub fn is_private(path: &Path) -> std::io::Result<bool> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 == 0)
}

/// Sets the process's file-creation mask to 0077, so that whatever the process creates without
/// an explicit mode (SQLite's own files among them) is private too. For the binary's start.
pub fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn tighten_makes_files_0600_and_folders_0700_recursively() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        std::fs::create_dir_all(root.join("files/sha256/ab")).unwrap();
        std::fs::write(root.join("jiuzhu.sqlite"), b"x").unwrap();
        std::fs::write(root.join("files/sha256/ab/abcd"), b"y").unwrap();
        for p in [&root, &root.join("files")] {
            std::fs::set_permissions(p, Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(root.join("jiuzhu.sqlite"), Permissions::from_mode(0o644))
            .unwrap();
        assert!(tighten(&root).unwrap() >= 3);
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("files/sha256/ab")), 0o700);
        assert_eq!(mode(&root.join("jiuzhu.sqlite")), 0o600);
        assert_eq!(mode(&root.join("files/sha256/ab/abcd")), 0o600);
        assert_eq!(tighten(&root).unwrap(), 0, "nothing left to change");
    }

    #[test]
    fn created_files_and_folders_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_dir(&sub).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&sub), 0o700);
        create_file(&sub.join("f")).unwrap();
        assert_eq!(mode(&sub.join("f")), 0o600);
        assert!(create_file(&sub.join("f")).is_err(), "never over a file");
    }
}
