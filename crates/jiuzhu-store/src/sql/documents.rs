//! Documents of the one-person-one-file archive (docs/documents.md). Rows are append-only; a
//! withdrawal is a row of `document_withdrawals`.

use async_trait::async_trait;
use jiuzhu_domain::access::{ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{Actor, AuditAction, DivisionCode, Grant};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::reach::Reach;
use super::{invalid, page_bounds, rows, Event, Sql, SqlStore, Who};
use crate::documents::{
    document_type, Document, DocumentId, DocumentQuery, NewDocument, OwnerKind, Withdrawal,
};
use crate::prelude::*;
use crate::ProtectedReaders;
use crate::{Page, Result, StoreError};

const SELECT: &str = "SELECT d.*, w.withdrawn_by_id, w.withdrawn_by, w.withdrawn_at, w.reason \
     FROM documents d LEFT JOIN document_withdrawals w ON w.document_id = d.id";

fn not_found(id: impl ToString) -> StoreError {
    StoreError::NotFound {
        kind: "document",
        id: id.to_string(),
    }
}

fn document(row: &AnyRow) -> Result<Document> {
    let kind: String = rows::get(row, "owner_kind")?;
    let division: String = rows::get(row, "division")?;
    let withdrawn = match rows::get::<Option<String>>(row, "withdrawn_at")? {
        Some(at) => Some(Withdrawal {
            by_id: rows::get(row, "withdrawn_by_id")?,
            by: rows::get(row, "withdrawn_by")?,
            at: rows::parse_ts(&at)?,
            reason: rows::get(row, "reason")?,
        }),
        None => None,
    };
    Ok(Document {
        id: rows::get(row, "id")?,
        owner_kind: OwnerKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown owner kind {kind:?}")))?,
        owner_id: rows::get(row, "owner_id")?,
        division: DivisionCode::parse(&division)
            .map_err(|_| StoreError::Database(format!("bad division {division:?}")))?,
        doc_type: rows::get(row, "doc_type")?,
        file_name: rows::get(row, "file_name")?,
        content_type: rows::get(row, "content_type")?,
        size_bytes: rows::get(row, "size_bytes")?,
        sha256: rows::get(row, "sha256")?,
        storage_key: rows::get(row, "storage_key")?,
        uploaded_by_id: rows::get(row, "uploaded_by_id")?,
        uploaded_by: rows::get(row, "uploaded_by")?,
        uploaded_at: rows::parse_ts(&rows::get::<String>(row, "uploaded_at")?)?,
        note: rows::get(row, "note")?,
        withdrawn,
    })
}

/// The owner's division if the owner exists and the actor reads it (a person or household in
/// scope; a case as [`Reach`] says).
async fn owner_division(
    conn: &mut AnyConnection,
    actor: &Actor,
    readers: &ProtectedReaders,
    kind: OwnerKind,
    id: i64,
) -> Result<Option<String>> {
    let sql = match kind {
        OwnerKind::Person => {
            let mut q = Sql::new("SELECT residence_division AS d FROM persons WHERE id = ");
            q.bind_int(id)
                .push(" AND residence_division LIKE ")
                .bind_text(actor.scope.like_pattern());
            q
        }
        OwnerKind::Household => {
            let mut q = Sql::new("SELECT division AS d FROM households WHERE id = ");
            q.bind_int(id)
                .push(" AND division LIKE ")
                .bind_text(actor.scope.like_pattern());
            q
        }
        OwnerKind::Case => {
            let mut q = Sql::new("SELECT c.division_responsible AS d FROM cases c WHERE c.id = ");
            q.bind_int(id);
            Reach::of(actor, readers).and(&mut q, "c");
            q
        }
    };
    let row = sql.query().fetch_optional(&mut *conn).await?;
    row.map(|r| rows::get::<String>(&r, "d")).transpose()
}

/// ` AND …`: a document in the actor's scope, and a case's document only if the case is one
/// the actor reads (a protected case's file names are as telling as the case).
fn readable(sql: &mut Sql, actor: &Actor, readers: &ProtectedReaders) {
    sql.push(" AND d.division LIKE ")
        .bind_text(actor.scope.like_pattern())
        .push(" AND (d.owner_kind <> 'case' OR ");
    Reach::of(actor, readers).exists_case(sql, "d.owner_id");
    sql.push(")");
}

async fn load(
    conn: &mut AnyConnection,
    actor: &Actor,
    readers: &ProtectedReaders,
    id: DocumentId,
) -> Result<Option<Document>> {
    let mut sql = Sql::new(&format!("{SELECT} WHERE d.id = "));
    sql.bind_int(id);
    readable(&mut sql, actor, readers);
    let row = sql.query().fetch_optional(&mut *conn).await?;
    row.map(|r| document(&r)).transpose()
}

/// What the audit log keeps of a document: no file name (it may name a person or an illness).
fn audit_image(d: &Document) -> serde_json::Value {
    json!({
        "owner_kind": d.owner_kind.as_str(),
        "owner_id": d.owner_id,
        "doc_type": d.doc_type,
        "size_bytes": d.size_bytes,
        "sha256": d.sha256,
    })
}

#[async_trait]
impl DocumentStore for SqlStore {
    async fn add_document(&self, g: &Grant<WriteRegistry>, new: &NewDocument) -> Result<Document> {
        if document_type(&new.doc_type).is_none() {
            return Err(invalid(
                "doc_type",
                "DOCUMENT_TYPE_UNKNOWN",
                format!("材料类型“{}”不存在", new.doc_type),
            ));
        }
        if new.file_name.trim().is_empty() {
            return Err(invalid("file", "DOCUMENT_NAME_EMPTY", "文件名不能为空"));
        }
        let valid_hash = new.sha256.len() == 64
            && new
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_hash || new.size_bytes < 0 {
            return Err(invalid("file", "DOCUMENT_HASH", "文件摘要无效"));
        }
        let mut w = self.write().await?;
        let division = owner_division(
            w.conn(),
            g.actor(),
            &self.readers(),
            new.owner_kind,
            new.owner_id,
        )
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: new.owner_kind.as_str(),
            id: new.owner_id.to_string(),
        })?;
        let id = w.next_id("documents").await?;
        let actor = g.actor();
        sqlx::query(
            "INSERT INTO documents (id, owner_kind, owner_id, division, doc_type, file_name, \
             content_type, size_bytes, sha256, storage_key, uploaded_by_id, uploaded_by, \
             uploaded_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(new.owner_kind.as_str())
        .bind(new.owner_id)
        .bind(&division)
        .bind(&new.doc_type)
        .bind(new.file_name.trim())
        .bind(&new.content_type)
        .bind(new.size_bytes)
        .bind(&new.sha256)
        .bind(&new.storage_key)
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&w.now_text)
        .bind(new.note.trim())
        .execute(&mut *w.tx)
        .await?;
        let doc = load(w.conn(), g.actor(), &self.readers(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        w.audit(
            Who::from(actor),
            Event::new(AuditAction::DocumentUploaded, "document")
                .record(id)
                .division(&doc.division)
                .after(audit_image(&doc)),
        )
        .await?;
        w.commit().await?;
        Ok(doc)
    }

    async fn list_documents(
        &self,
        g: &Grant<ReadRegistry>,
        q: &DocumentQuery,
    ) -> Result<Page<Document>> {
        let mut filter = Sql::new(" WHERE 1 = 1");
        readable(&mut filter, g.actor(), &self.readers());
        if let Some((kind, id)) = q.owner {
            filter
                .push(" AND d.owner_kind = ")
                .bind_text(kind.as_str())
                .push(" AND d.owner_id = ")
                .bind_int(id);
        }
        if !q.include_withdrawn {
            filter.push(" AND w.document_id IS NULL");
        }
        let mut count = super::Sql::new(
            "SELECT COUNT(*) FROM documents d LEFT JOIN document_withdrawals w \
             ON w.document_id = d.id",
        );
        count.text.push_str(&filter.text);
        count.args = filter.args.clone();
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut sql = super::Sql::new(SELECT);
        sql.text.push_str(&filter.text);
        sql.args = filter.args;
        sql.push(" ORDER BY d.id DESC LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let rows = sql.query().fetch_all(&self.pool).await?;
        Ok(Page {
            items: rows.iter().map(document).collect::<Result<_>>()?,
            total,
        })
    }

    async fn get_document(
        &self,
        g: &Grant<ReadRegistry>,
        id: DocumentId,
    ) -> Result<Option<Document>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, g.actor(), &self.readers(), id).await
    }

    async fn reveal_document(
        &self,
        g: &Grant<RevealSensitive>,
        id: DocumentId,
    ) -> Result<Document> {
        let mut w = self.write().await?;
        let doc = load(w.conn(), g.actor(), &self.readers(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        w.audit(
            Who::from(g.actor()),
            Event::new(AuditAction::SensitiveRevealed, "document")
                .record(id)
                .division(&doc.division)
                .detail(format!("document:{}", doc.doc_type)),
        )
        .await?;
        w.commit().await?;
        Ok(doc)
    }

    async fn withdraw_document(
        &self,
        g: &Grant<WriteRegistry>,
        id: DocumentId,
        reason: &str,
    ) -> Result<Document> {
        let mut w = self.write().await?;
        // Scope first: outside it the document does not exist, whatever the input.
        let doc = load(w.conn(), g.actor(), &self.readers(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid(
                "reason",
                "DOCUMENT_WITHDRAW_REASON",
                "撤回材料须填写原因",
            ));
        }
        if doc.withdrawn.is_some() {
            return Err(invalid("id", "DOCUMENT_ALREADY_WITHDRAWN", "该材料已撤回"));
        }
        let actor = g.actor();
        sqlx::query(
            "INSERT INTO document_withdrawals (document_id, withdrawn_by_id, withdrawn_by, \
             withdrawn_at, reason) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&w.now_text)
        .bind(reason)
        .execute(&mut *w.tx)
        .await?;
        let after = load(w.conn(), g.actor(), &self.readers(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        w.audit(
            Who::from(actor),
            Event::new(AuditAction::DocumentWithdrawn, "document")
                .record(id)
                .division(&doc.division)
                .before(audit_image(&doc))
                .detail(reason.to_string()),
        )
        .await?;
        w.commit().await?;
        Ok(after)
    }
}
