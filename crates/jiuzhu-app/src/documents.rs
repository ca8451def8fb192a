//! The one-person-one-file archive (一人一档): uploading a document to a person, a household or a
//! case, and reading its content — for the documents pages, their API and the case pages.
//!
//! An upload is checked in full before anything is written: the owner must exist in the
//! uploader's jurisdiction, the file must be within the size limit and of an allowed type
//! recognised by its first bytes (never by name or declared type). The file is stored by its
//! content (`jiuzhu_store::document_files`), then the document is recorded (audited).

use std::path::PathBuf;

use jiuzhu_domain::access::{ReadCases, ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{Actor, FieldError, Grant};
pub use jiuzhu_store::document_files::FileKind;
use jiuzhu_store::document_files::FileStore;
use jiuzhu_store::documents::document_type;
use jiuzhu_store::{Document, DocumentId, DocumentQuery, NewDocument, OwnerKind, Page};

use crate::{App, Error, Result};

/// Where documents are kept, how large one may be and which types are accepted.
#[derive(Debug, Clone)]
pub struct DocumentSettings {
    pub dir: PathBuf,
    pub max_bytes: u64,
    pub types: Vec<FileKind>,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings {
            dir: PathBuf::from("data/files"),
            max_bytes: 20 * 1024 * 1024,
            types: FileKind::ALL.to_vec(),
        }
    }
}

/// A document as uploaded, all text as typed.
#[derive(Debug, Default)]
pub struct Upload {
    pub owner_kind: String,
    pub owner_id: String,
    pub doc_type: String,
    pub note: String,
    pub file_name: Option<String>,
    /// The file, kept only up to the limit.
    pub bytes: Vec<u8>,
    /// The whole file's size, also when it was too large to keep.
    pub size: u64,
}

fn field_error(field: &str, code: &str, message: impl Into<String>) -> Error {
    Error::invalid(vec![FieldError::new(field, code, message)])
}

/// The accepted types as the messages name them: "PDF、JPEG、PNG".
pub fn allowed_list(kinds: &[FileKind]) -> String {
    kinds
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("、")
}

/// A document type's Chinese name (the code when it is not one of the platform's).
pub fn type_label(code: &str) -> &str {
    document_type(code).map(|t| t.label_zh).unwrap_or(code)
}

impl App {
    /// The same application with other document settings (the server's options).
    pub fn with_documents(&self, settings: DocumentSettings) -> App {
        App {
            documents: std::sync::Arc::new(settings),
            ..self.clone()
        }
    }

    pub fn documents(&self) -> &DocumentSettings {
        &self.documents
    }
}

/// Validates an upload, stores the file and records the document.
pub async fn upload(app: &App, grant: &Grant<WriteRegistry>, up: Upload) -> Result<Document> {
    let owner_kind = OwnerKind::parse(up.owner_kind.trim()).ok_or_else(|| {
        field_error(
            "owner_kind",
            "DOCUMENT_OWNER_KIND",
            "材料所属对象类型无效(person、household 或 case)",
        )
    })?;
    let owner_id: i64 = up
        .owner_id
        .trim()
        .parse()
        .map_err(|_| field_error("owner_id", "DOCUMENT_OWNER_ID", "材料所属对象编号无效"))?;
    let doc_type = document_type(up.doc_type.trim()).ok_or_else(|| {
        field_error(
            "doc_type",
            "DOCUMENT_TYPE_UNKNOWN",
            format!("材料类型“{}”不存在", up.doc_type.trim()),
        )
    })?;
    let Some(file_name) = up.file_name.filter(|_| up.size > 0) else {
        return Err(field_error("file", "FILE_MISSING", "请选择要上传的文件"));
    };
    // Only the last path component: browsers on some systems send the client's full path.
    let file_name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let file_name = if file_name.is_empty() {
        "未命名".to_string()
    } else {
        file_name
    };
    // The owner is checked before anything is written, so an upload outside the jurisdiction
    // leaves no file behind (the store checks again when it records the document).
    if !owner_visible(app, grant.actor(), owner_kind, owner_id).await? {
        return Err(Error::NotFound);
    }
    let settings = app.documents();
    if up.size > settings.max_bytes {
        return Err(Error::TooLarge {
            limit: settings.max_bytes,
            size: Some(up.size),
        });
    }
    let kind = FileKind::sniff(&up.bytes)
        .filter(|k| settings.types.contains(k))
        .ok_or_else(|| {
            field_error(
                "file",
                "FILE_TYPE",
                format!(
                    "文件“{file_name}”类型不允许,仅支持 {}",
                    allowed_list(&settings.types)
                ),
            )
        })?;
    let files = FileStore::new(settings.dir.clone());
    let bytes = up.bytes;
    let stored = tokio::task::spawn_blocking(move || files.put(&bytes))
        .await
        .map_err(|e| Error::internal_from("storing a document", e))?
        .map_err(|e| Error::internal_from("storing a document", e))?;
    let doc = app
        .store
        .add_document(
            grant,
            &NewDocument {
                owner_kind,
                owner_id,
                doc_type: doc_type.code.to_string(),
                file_name,
                content_type: kind.content_type().to_string(),
                size_bytes: up.size as i64,
                sha256: stored.sha256,
                storage_key: stored.key,
                note: up.note,
            },
        )
        .await?;
    Ok(doc)
}

/// Whether the owner of a file exists and the actor reads it.
pub async fn owner_visible(app: &App, actor: &Actor, kind: OwnerKind, id: i64) -> Result<bool> {
    let store = app.store.as_ref();
    Ok(match kind {
        OwnerKind::Person => store
            .get_person(&actor.grant::<ReadRegistry>()?, id)
            .await?
            .is_some(),
        OwnerKind::Household => store
            .get_household(&actor.grant::<ReadRegistry>()?, id)
            .await?
            .is_some(),
        OwnerKind::Case => match actor.grant::<ReadCases>() {
            Ok(g) => store.get_case(&g, id).await?.is_some(),
            Err(_) => false,
        },
    })
}

/// A document and its file as the actor may read them: a sensitive document (health,
/// disability, bank) only with the right to reveal, and its reading is audited. The file is
/// checked against its recorded SHA-256.
pub async fn content(app: &App, actor: &Actor, id: DocumentId) -> Result<(Document, Vec<u8>)> {
    let read = actor.grant::<ReadRegistry>()?;
    let doc = app
        .store
        .get_document(&read, id)
        .await?
        .ok_or(Error::NotFound)?;
    let doc = if doc.is_sensitive() {
        let reveal = actor
            .grant::<RevealSensitive>()
            .map_err(|_| Error::Forbidden {
                code: "DENIED",
                message: format!(
                    "{}无权查看{}(敏感材料)",
                    actor.role.label_zh(),
                    type_label(&doc.doc_type)
                ),
                fields: vec![],
            })?;
        app.store.reveal_document(&reveal, id).await?
    } else {
        doc
    };
    let files = FileStore::new(app.documents().dir.clone());
    let (key, sha) = (doc.storage_key.clone(), doc.sha256.clone());
    let bytes = tokio::task::spawn_blocking(move || files.get(&key, &sha))
        .await
        .map_err(|e| Error::internal_from("reading a document", e))?
        .map_err(|e| Error::internal_from("reading a document", e))?;
    Ok((doc, bytes))
}

impl App {
    /// A document in scope (withdrawn ones too), for its metadata and non-sensitive content.
    pub async fn get_document(
        &self,
        g: &Grant<ReadRegistry>,
        id: DocumentId,
    ) -> Result<Option<Document>> {
        Ok(self.store.get_document(g, id).await?)
    }

    /// Documents in scope, newest first; of one owner when `q.owner` is set.
    pub async fn list_documents(
        &self,
        g: &Grant<ReadRegistry>,
        q: &DocumentQuery,
    ) -> Result<Page<Document>> {
        Ok(self.store.list_documents(g, q).await?)
    }

    /// Marks a document withdrawn (a new row: who, when, why); the document and its file stay.
    pub async fn withdraw_document(
        &self,
        g: &Grant<WriteRegistry>,
        id: DocumentId,
        reason: &str,
    ) -> Result<Document> {
        Ok(self.store.withdraw_document(g, id, reason).await?)
    }
}
