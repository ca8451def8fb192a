//! Where delivered files are kept: `<data-dir>/feeds/<sha256>.<format>`, written under a
//! temporary name and renamed, so that a file is either complete or absent and the same content
//! is kept once. A kept delivery is never modified; the database records who delivered it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use jiuzhu_domain::FeedFormat;

use crate::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedError + '_ {
    move |source| FeedError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where delivered files are kept: `<data-dir>/feeds/<sha256>.csv`.
#[derive(Debug, Clone)]
pub struct FeedFiles {
    root: PathBuf,
}

static STAGE_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file being kept, under a temporary name until its SHA-256 is known.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The path, no longer removed on drop (the caller hands it to `jiuzhu_app::verification::import_feed` as a staged
    /// upload, which moves it under its SHA-256).
    pub fn into_path(self) -> PathBuf {
        let path = self.path.clone();
        std::mem::forget(self);
        path
    }
}

impl Staged {
    /// Takes ownership of a file staged earlier (an upload handed over by
    /// [`Staged::into_path`]): removed when dropped unless kept.
    pub fn adopt(path: PathBuf) -> Staged {
        Staged { path }
    }

    /// Creates the staged file, private (0600), for the caller to write.
    pub fn create(&self) -> std::io::Result<std::fs::File> {
        crate::private_fs::create_file(&self.path)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl FeedFiles {
    /// The data directory of a database URL: `sqlite://dir/x.sqlite` keeps files in `dir`;
    /// other databases in `./data`.
    pub fn default_dir(database_url: &str) -> PathBuf {
        if let Some(rest) = database_url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            let path = Path::new(rest.split('?').next().unwrap_or(rest));
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() {
                    return dir.to_path_buf();
                }
            }
            return PathBuf::from(".");
        }
        PathBuf::from("data")
    }

    pub fn new(data_dir: impl Into<PathBuf>) -> FeedFiles {
        FeedFiles {
            root: data_dir.into(),
        }
    }

    /// `<data-dir>/feeds`, made (mode 0700, and the data directory too) if missing.
    fn feeds_dir(&self) -> Result<PathBuf, FeedError> {
        let dir = self.root.join("feeds");
        if !dir.is_dir() {
            crate::private_fs::create_dir(&self.root).map_err(io(&self.root))?;
            crate::private_fs::create_dir(&dir).map_err(io(&dir))?;
        }
        Ok(dir)
    }

    /// Brings the data directory, the kept deliveries and staged files to modes 0700 (folders)
    /// and 0600 (files), for a data directory made before they were created private or changed
    /// by hand; at start. Returns how many modes were changed.
    pub fn tighten(&self) -> Result<usize, FeedError> {
        crate::private_fs::tighten_one(&self.root).map_err(io(&self.root))?;
        let dir = self.root.join("feeds");
        crate::private_fs::tighten(&dir).map_err(io(&dir))
    }

    /// The data directory the deliveries are kept under.
    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    /// The kept file of a delivery.
    pub fn path_of(&self, content_key: &str) -> PathBuf {
        self.root.join(content_key)
    }

    /// A temporary file in the feeds directory for the caller to write (an upload).
    pub fn stage_new(&self) -> Result<Staged, FeedError> {
        let dir = self.feeds_dir()?;
        let n = STAGE_SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(Staged {
            path: dir.join(format!(".incoming-{}-{n}", std::process::id())),
        })
    }

    /// Removes staged files left behind by a process that is gone (killed between staging an
    /// upload and keeping it): their names carry the process id. Returns how many were
    /// removed. Where process ids cannot be checked (no `/proc`), only files older than a day
    /// are taken for abandoned.
    pub fn remove_abandoned_staging(&self) -> Result<usize, FeedError> {
        let dir = self.feeds_dir()?;
        let own = std::process::id();
        let procfs = Path::new("/proc/self").exists();
        let mut removed = 0;
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(".incoming-"))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            let abandoned = if procfs {
                pid != own && !Path::new("/proc").join(pid.to_string()).exists()
            } else {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 24 * 3600)
            };
            if abandoned && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Stages a copy of `src`: a hard link when it is on the same file system (a delivery is
    /// never modified in place, and the link costs nothing however big the file), else a copy.
    /// The kept file is made 0600; a link is the operator's file itself, so that file becomes
    /// 0600 as well (a department's delivery holds every identity number of its rows), which is
    /// logged when it was wider.
    pub fn stage_copy(&self, src: &Path) -> Result<Staged, FeedError> {
        let staged = self.stage_new()?;
        if std::fs::hard_link(src, &staged.path).is_ok() {
            let wide = !crate::private_fs::is_private(&staged.path).map_err(io(src))?;
            crate::private_fs::tighten_one(&staged.path).map_err(io(src))?;
            if wide {
                tracing::info!(
                    file = %src.display(),
                    "数据文件的权限已改为 0600 (the delivered file was made private: it is the kept copy)"
                );
            }
        } else {
            let mut from = std::fs::File::open(src).map_err(io(src))?;
            let mut to = crate::private_fs::create_file(&staged.path).map_err(io(&staged.path))?;
            std::io::copy(&mut from, &mut to).map_err(io(&staged.path))?;
        }
        Ok(staged)
    }

    /// Renames a staged file to its content key (`feeds/<sha256>.csv`); the same content
    /// delivered twice is kept once.
    pub fn commit(&self, staged: Staged, sha256: &str) -> Result<String, FeedError> {
        self.commit_as(staged, sha256, FeedFormat::Csv)
    }

    /// [`FeedFiles::commit`] for a delivery of `format`: `feeds/<sha256>.csv`,
    /// `feeds/<sha256>.gbk.csv` or `feeds/<sha256>.xlsx`.
    pub fn commit_as(
        &self,
        staged: Staged,
        sha256: &str,
        format: FeedFormat,
    ) -> Result<String, FeedError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FeedError::Invalid(format!("not a SHA-256: {sha256}")));
        }
        let key = format!("feeds/{sha256}.{}", format.suffix());
        let target = self.root.join(&key);
        if !target.exists() {
            std::fs::rename(&staged.path, &target).map_err(io(&target))?;
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_abandoned_by_a_gone_process_are_removed_and_ours_kept() {
        let dir = tempfile::tempdir().unwrap();
        let files = FeedFiles::new(dir.path());
        let ours = files.stage_new().unwrap();
        std::fs::write(ours.path(), b"in progress").unwrap();
        let feeds = dir.path().join("feeds");
        // No process has this id (above the kernel's pid_max).
        let gone = feeds.join(".incoming-4194399-7");
        std::fs::write(&gone, b"half an upload").unwrap();
        let kept = feeds.join("0123abcd.csv");
        std::fs::write(&kept, b"a kept delivery").unwrap();

        assert_eq!(files.remove_abandoned_staging().unwrap(), 1);
        assert!(!gone.exists());
        assert!(ours.path().exists());
        assert!(kept.exists());
    }
}
