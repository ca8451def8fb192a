//! One outreach lead (政策找人) with the row of the medical delivery it comes from: what that row
//! says — the name where the file gives one, the values, the identity number masked — and, for a
//! user who may reveal sensitive data, the full number, audited before it is shown (the person
//! may be unknown to the registry, so the delivery is the only place it is).

use jiuzhu_domain::access::{ReadVerification, RevealSensitive};
use jiuzhu_domain::id_number::mask_id_str;
use jiuzhu_domain::{AuditAction, DivisionCode, Grant};
use jiuzhu_store::{DeliveryReader, LeadQuery, LeadRecord};
use jiuzhu_verify::parse;
use jiuzhu_verify::source_row::SourceRow;
use serde::Serialize;

use crate::{App, Error, Result};

/// A cell of the source row: the column's Chinese label and the value delivered.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceCellView {
    pub label: String,
    pub text: String,
}

/// The delivery row a lead comes from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceRowView {
    pub delivery_id: i64,
    /// The registered source (the medical insurance office or insurer) by name.
    pub source: String,
    pub data_date: String,
    /// The department's own line or sheet row.
    pub row: i64,
    /// The name the row gives, if the delivery has a 姓名 column.
    pub name: Option<String>,
    /// The identity number: masked unless revealed.
    pub id_number: String,
    pub revealed: bool,
    /// The schema's columns other than the name and number, as delivered.
    pub cells: Vec<SourceCellView>,
}

const MASK: &str = "***";

/// Whether a delivery row is the claim the lead was raised on: the same masked person, the same
/// settlement date and the same out-of-pocket amount.
fn same_claim(row: &SourceRow, lead: &LeadRecord, full_number: &str) -> bool {
    let date = row
        .get("settlement_date")
        .and_then(|d| parse::date(d.as_bytes()).ok());
    let lead_date = parse::date(lead.settlement_date.to_string().as_bytes()).ok();
    let amount = row
        .get("out_of_pocket")
        .and_then(|a| parse::fen(a.as_bytes()).ok());
    mask_id_str(full_number) == lead.person
        && date.is_some()
        && date == lead_date
        && amount == Some(lead.out_of_pocket.fen())
}

/// A lead and its source row (`source` is absent when the delivery is not kept or the row can no
/// longer be read; `source_missing` says why).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadDetail {
    pub lead: LeadRecord,
    pub source: Option<SourceRowView>,
    pub source_missing: Option<String>,
}

async fn lead_of(app: &App, g: &Grant<ReadVerification>, id: i64) -> Result<LeadRecord> {
    let q = LeadQuery {
        id: Some(id),
        limit: 1,
        ..LeadQuery::default()
    };
    let page = app.store.list_outreach_leads(g, &q).await?;
    page.items.into_iter().next().ok_or(Error::NotFound)
}

/// The lead with its source row; with `reveal`, the full number, the reveal audited first.
pub async fn detail(
    app: &App,
    g: &Grant<ReadVerification>,
    id: i64,
    reveal: Option<&Grant<RevealSensitive>>,
) -> Result<LeadDetail> {
    let lead = lead_of(app, g, id).await?;
    let missing = |why: &str| LeadDetail {
        lead: lead.clone(),
        source: None,
        source_missing: Some(why.to_string()),
    };
    let Some(delivery_id) = lead.delivery_id else {
        return Ok(missing("该线索未记录来源批次"));
    };
    let reader = DeliveryReader::Verification(g.actor().grant()?);
    let Some(d) = app.store.get_delivery(&reader, delivery_id).await? else {
        return Ok(missing("来源批次不在您的查看范围内"));
    };
    let files = app.feeds().clone();
    let (kept, row) = (d.clone(), lead.row);
    let read = tokio::task::spawn_blocking(move || super::read_kept_row(&files, &kept, row))
        .await
        .map_err(|e| Error::internal_from("reading a lead's source row", e))?;
    let row = match read {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(missing("来源批次中该行已无法读取")),
        Err(e) => {
            tracing::warn!(delivery = d.id, error = %e, "a lead's source row is unreadable");
            return Ok(missing("来源批次文件无法读取,请联系系统管理员"));
        }
    };
    let full = row.get("id_number").unwrap_or_default().to_string();
    // The kept file is addressed by its hash; a row about someone else would be a fault of ours.
    // The masked number tells little (its region), so the claim's date and amount must match too.
    if !same_claim(&row, &lead, &full) {
        return Ok(missing("来源行与线索不符"));
    }
    if let Some(g) = reveal {
        let division = DivisionCode::parse(&lead.division)
            .map_err(|e| Error::internal(format!("division of lead {id}: {e:?}")))?;
        app.store
            .append_audit(
                g.actor(),
                AuditAction::SensitiveRevealed,
                "outreach_lead",
                Some(&id.to_string()),
                Some(&division),
                Some(&format!(
                    "outreach_lead id_number (delivery {delivery_id} row {})",
                    lead.row
                )),
            )
            .await?;
    }
    let source = app
        .store
        .feed_sources(&reader)
        .await?
        .into_iter()
        .find(|s| s.kind == d.kind && s.code == d.source)
        .map_or_else(|| d.source.clone(), |s| s.name);
    Ok(LeadDetail {
        source: Some(SourceRowView {
            delivery_id,
            source,
            data_date: d.data_date.to_string(),
            row: lead.row,
            name: row.get("name").map(str::to_string),
            id_number: if reveal.is_some() {
                full
            } else {
                lead.person.clone()
            },
            revealed: reveal.is_some(),
            cells: row
                .cells
                .iter()
                .filter(|c| c.column != "id_number" && c.column != "name" && !c.text.is_empty())
                .map(|c| SourceCellView {
                    label: c.label_zh.to_string(),
                    // Health data: the costs beyond what the lead states (its out-of-pocket
                    // amount) are shown by the audited reveal only.
                    text: if reveal.is_none() && c.column == "total_cost" {
                        MASK.to_string()
                    } else {
                        c.text.clone()
                    },
                })
                .collect(),
        }),
        source_missing: None,
        lead,
    })
}
