//! Attachments of a case step that point at records the platform already holds, so nobody
//! retypes them: documents of one person one file (一人一档, `doc:<id>`) of the case's household,
//! its members or the case itself, and the assist-first payment (先行救助) from the township
//! reserve fund, whose voucher number and amount go onto the assist step.
//!
//! Free-text attachments (paper records) stay as they are; only `doc:` references are checked.

use jiuzhu_domain::access::{ReadCases, ReadRegistry};
use jiuzhu_domain::{Actor, FieldError, Grant};
use jiuzhu_store::{CaseRecord, Document, DocumentQuery, OwnerKind, ReserveEntryKind};
use jiuzhu_workflow::Attachment;

use crate::{App, Error, Result};

/// Prefix of an attachment id naming a filed document.
pub const DOC_PREFIX: &str = "doc:";
/// The record kind of the assist step that the reserve-fund payment fills in.
pub const VOUCHER_RECORD: &str = "payment_voucher";

/// A filed document offered on a step form.
pub struct DocOption {
    pub id: i64,
    pub label: String,
}

/// The document id of a `doc:<id>` attachment; `Some(Err)` when the id after the prefix is not a
/// number.
fn doc_id(a: &Attachment) -> Option<Result<i64, ()>> {
    a.id.trim()
        .strip_prefix(DOC_PREFIX)
        .map(|n| n.trim().parse::<i64>().map_err(|_| ()))
}

/// How a document reads in forms and on the timeline: type, file name, upload date.
pub fn doc_label(d: &Document) -> String {
    let ty = jiuzhu_store::documents::document_type(&d.doc_type)
        .map(|t| t.label_zh)
        .unwrap_or(d.doc_type.as_str());
    format!(
        "{ty} {}({})",
        d.file_name,
        d.uploaded_at.date_naive().format("%Y-%m-%d")
    )
}

/// The owners whose documents belong to a case: the case, its household and the household's
/// current members.
async fn owners(
    app: &App,
    reg: &Grant<ReadRegistry>,
    c: &CaseRecord,
) -> Result<Vec<(OwnerKind, i64)>> {
    let mut out = vec![
        (OwnerKind::Case, c.id),
        (OwnerKind::Household, c.household_id),
    ];
    if let Some(s) = app
        .store
        .household_as_of(reg, c.household_id, app.today())
        .await?
    {
        out.extend(s.members.iter().map(|m| (OwnerKind::Person, m.person.id)));
    }
    if !out.contains(&(OwnerKind::Person, c.applicant_id)) {
        out.push((OwnerKind::Person, c.applicant_id));
    }
    Ok(out)
}

/// The current (not withdrawn) documents of the case's file the user may read, newest first.
pub async fn offered(app: &App, actor: &Actor, c: &CaseRecord) -> Result<Vec<DocOption>> {
    let reg = actor.grant::<ReadRegistry>()?;
    let mut docs: Vec<Document> = Vec::new();
    for owner in owners(app, &reg, c).await? {
        let page = app
            .store
            .list_documents(
                &reg,
                &DocumentQuery {
                    owner: Some(owner),
                    include_withdrawn: false,
                    limit: 200,
                    offset: 0,
                },
            )
            .await?;
        docs.extend(page.items);
    }
    docs.sort_by(|a, b| b.uploaded_at.cmp(&a.uploaded_at).then(b.id.cmp(&a.id)));
    docs.dedup_by_key(|d| d.id);
    Ok(docs
        .iter()
        .map(|d| DocOption {
            id: d.id,
            label: doc_label(d),
        })
        .collect())
}

/// Refuses `doc:<id>` attachments that are not current documents of the case's file in the
/// user's scope. Out of scope and nonexistent read the same, so ids outside the jurisdiction
/// reveal nothing.
pub async fn check_refs(
    app: &App,
    actor: &Actor,
    c: &CaseRecord,
    atts: &[Attachment],
) -> Result<()> {
    let refs: Vec<&Attachment> = atts.iter().filter(|a| doc_id(a).is_some()).collect();
    if refs.is_empty() {
        return Ok(());
    }
    let reg = actor.grant::<ReadRegistry>()?;
    let allowed = owners(app, &reg, c).await?;
    let mut errors = Vec::new();
    for a in refs {
        let field = format!("attachments.{}", a.kind);
        let id = match doc_id(a) {
            Some(Ok(id)) => id,
            _ => {
                errors.push(FieldError::new(
                    &field,
                    "ATTACHMENT_DOCUMENT_ID",
                    format!("材料编号“{}”无效,应为 doc:数字", a.id.trim()),
                ));
                continue;
            }
        };
        match app.store.get_document(&reg, id).await? {
            None => errors.push(FieldError::new(
                &field,
                "ATTACHMENT_DOCUMENT_NOT_FOUND",
                format!("材料 doc:{id} 不存在或不在您的管辖范围内,不能作为附件"),
            )),
            Some(d) if d.withdrawn.is_some() => errors.push(FieldError::new(
                &field,
                "ATTACHMENT_DOCUMENT_WITHDRAWN",
                format!("材料 doc:{id}({})已撤回,不能作为附件", doc_label(&d)),
            )),
            Some(d) if !allowed.contains(&(d.owner_kind, d.owner_id)) => {
                errors.push(FieldError::new(
                    &field,
                    "ATTACHMENT_DOCUMENT_OTHER_FILE",
                    format!(
                        "材料 doc:{id}({})不属于本案件家庭或其成员的档案,不能作为附件",
                        doc_label(&d)
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(errors))
    }
}

/// The assist-first payments of a case from its township's reserve fund, oldest first, as
/// attachment ids: `"<voucher>(备用金支付 <amount> 元)"`, with the voucher number as typed when
/// the payment was recorded (empty when none was given).
pub async fn assist_payments(
    app: &App,
    read: &Grant<ReadCases>,
    c: &CaseRecord,
) -> Result<Vec<(String, String)>> {
    if !super::workflow(app, &c.workflow)?.assist_first {
        return Ok(vec![]);
    }
    let Some(township) = jiuzhu_domain::DivisionCode::parse(&c.division_filed)
        .ok()
        .and_then(|d| d.township())
    else {
        return Ok(vec![]);
    };
    // A user who may read the case but not the township's ledger (county or department views)
    // gets nothing here rather than an error.
    let funds = match app.store.reserve_funds(read).await {
        Err(jiuzhu_store::StoreError::NotFound { .. }) => return Ok(vec![]),
        other => other?,
    };
    if !funds.iter().any(|f| f.township == township) {
        return Ok(vec![]);
    }
    let mut entries = app
        .store
        .reserve_fund_entries(read, &township, 1000)
        .await?;
    entries.retain(|e| e.case_id == Some(c.id) && e.kind == ReserveEntryKind::Withdrawal);
    entries.sort_by_key(|e| e.seq);
    Ok(entries
        .iter()
        .map(|e| {
            let voucher = e.voucher.clone().unwrap_or_default();
            let id = if voucher.is_empty() {
                format!("未填凭证号(备用金支付 {} 元,{})", e.amount, e.on)
            } else {
                format!("{voucher}(备用金支付 {} 元)", e.amount)
            };
            (voucher, id)
        })
        .collect())
}

/// Fills the payment voucher of a step that needs one from the case's reserve-fund payments:
/// none given → every payment is attached; a voucher number given as typed at payment →
/// the amount is added to it. Anything else (a paper voucher) is kept as given.
pub async fn with_assist_vouchers(
    app: &App,
    read: &Grant<ReadCases>,
    c: &CaseRecord,
    needs: &[String],
    atts: &mut Vec<Attachment>,
) -> Result<()> {
    if !needs.iter().any(|k| k == VOUCHER_RECORD) {
        return Ok(());
    }
    let payments = assist_payments(app, read, c).await?;
    if payments.is_empty() {
        return Ok(());
    }
    let given: Vec<&mut Attachment> = atts
        .iter_mut()
        .filter(|a| a.kind == VOUCHER_RECORD && !a.id.trim().is_empty())
        .collect();
    if given.is_empty() {
        atts.extend(
            payments
                .iter()
                .map(|(_, id)| Attachment::new(VOUCHER_RECORD, id)),
        );
        return Ok(());
    }
    for a in given {
        if let Some((_, id)) = payments
            .iter()
            .find(|(v, _)| !v.is_empty() && v == a.id.trim())
        {
            a.id = id.clone();
        }
    }
    Ok(())
}

/// The record kind of the verification report (核对报告) a verification step needs.
pub const REPORT_RECORD: &str = "verification_report";

/// The attachment a verification step gets when it is completed without a report of its own:
/// the case's latest generated report, if the step needs one and there is one.
pub async fn report_for_step(
    app: &App,
    g: &Grant<ReadCases>,
    case_id: jiuzhu_store::CaseId,
    needs: &[String],
    given: &[Attachment],
) -> Result<Option<Attachment>> {
    if !needs.iter().any(|k| k == REPORT_RECORD) || given.iter().any(|a| a.kind == REPORT_RECORD) {
        return Ok(None);
    }
    Ok(app
        .store
        .verification_reports(g, case_id)
        .await?
        .first()
        .map(|r| Attachment::new(REPORT_RECORD, &r.reference())))
}
