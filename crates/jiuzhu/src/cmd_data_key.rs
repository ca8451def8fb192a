//! Opening the store with its data key file (created on a first start and printed), keeping the
//! data directory private, and `jiuzhu data-key rotate` (docs/security.md, "Encryption at rest"
//! and "File permissions").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use jiuzhu_domain::{Actor, AuditAction, Clock};
use jiuzhu_store::data_key::DataKeys;
use jiuzhu_store::{private_fs, KeyFileOpened, Store};

use crate::cmd_audit::Out;

#[derive(clap::Subcommand, Debug)]
pub enum DataKeyCommand {
    /// Add a new SM4 key to the key file: from now on it encrypts, and every stored value is
    /// re-encrypted with it now; the older keys stay in the file (older backups need them).
    Rotate,
}

/// Opens the database with the key file at `key_path`: a new key file is made only for a
/// database that holds nothing encrypted, said on `out` and audited; values not yet encrypted
/// with the newest key (an older database, a rotation) are encrypted now.
pub async fn open_store(
    url: &str,
    clock: Arc<dyn Clock>,
    key_path: &Path,
    out: Out,
) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                private_fs::create_dir(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
    }
    let (store, opened) = jiuzhu_store::connect_with_key_file(url, clock, key_path)
        .await
        .with_context(|| format!("opening database {}", crate::redact_url(url)))?;
    let store: Arc<dyn Store> = Arc::new(store);
    if opened.created {
        let shown = std::path::absolute(key_path).unwrap_or_else(|_| key_path.to_path_buf());
        out.line("首次启动:已生成数据加密密钥 (first start: data encryption key created)");
        out.line(&format!(
            "  密钥文件 key file (0600;须离线备份,与数据库备份分开保存;丢失则加密字段无法恢复): {}",
            shown.display()
        ));
        out.line(&format!("  密钥编号 key id: {}", opened.active_id));
        added(store.as_ref(), &opened, "created").await?;
    }
    if !opened.encrypted.is_empty() {
        out.line(&format!(
            "已加密存量敏感数据 (sensitive fields encrypted with key {}): 人员 {} 条,人员历史 {} 条",
            opened.active_id, opened.encrypted.persons, opened.encrypted.person_history
        ));
    }
    Ok(store)
}

async fn added(store: &dyn Store, opened: &KeyFileOpened, how: &str) -> anyhow::Result<()> {
    store
        .append_audit(
            &Actor::system("data-key"),
            AuditAction::DataKeyAdded,
            "data_key",
            Some(&opened.active_id),
            None,
            Some(&format!("SM4 data key {} {how}", opened.active_id)),
        )
        .await?;
    Ok(())
}

/// `jiuzhu data-key rotate`: a new key in the file, then every value re-encrypted with it.
pub async fn rotate(url: &str, clock: Arc<dyn Clock>, key_path: &Path) -> anyhow::Result<()> {
    // The file must open with the database before it changes: never rotate a key file that
    // belongs to another database.
    drop(open_store(url, clock.clone(), key_path, Out::Stdout).await?);
    let keys = DataKeys::rotate(key_path)?;
    let (store, opened) = jiuzhu_store::connect_with_key_file(url, clock, key_path).await?;
    added(&store, &opened, "added by rotation").await?;
    println!(
        "已启用新数据密钥 (new data key) {};已重新加密 人员 {} 条,人员历史 {} 条",
        keys.active_id(),
        opened.encrypted.persons,
        opened.encrypted.person_history
    );
    println!(
        "  密钥文件仍保存旧密钥 {} (older keys stay in the file); 请重新备份密钥文件 (back it up again)",
        keys.ids()[..keys.ids().len() - 1].join(", ")
    );
    Ok(())
}

/// At `serve`'s start: the data directory, the kept files and the key and checkpoint files get
/// modes 0700 (folders) and 0600 (files), whatever made them.
pub fn tighten(data_dir: &Path, files_dir: &Path, key_files: &[PathBuf]) -> anyhow::Result<()> {
    let mut changed = jiuzhu_store::kept::FeedFiles::new(data_dir).tighten()?;
    changed += private_fs::tighten(files_dir)
        .with_context(|| format!("tightening {}", files_dir.display()))?;
    for f in key_files {
        private_fs::tighten_one(f).with_context(|| format!("tightening {}", f.display()))?;
    }
    if changed > 0 {
        tracing::info!(changed, "file and folder modes tightened to 0600/0700");
    }
    Ok(())
}
