//! Generating the verification report of an application (核对报告, 逢进必核, R-PR-3, R-VF-2) at a
//! case's verification step: from every registered source's latest accepted delivery within the
//! policy's window, as the month's run reads them, and only with the applicant's signed
//! authorisation on file. The findings and tests are `jiuzhu_verify::report` (pure); this reads
//! the household, the policy in force and the kept files, and keeps the result.

use jiuzhu_domain::access::{ActOnCase, ReadCases, ReadRegistry};
use jiuzhu_domain::{DivisionCode, FeedFormat, FieldError, Grant, Month};
use jiuzhu_store::verification_reports::{NewVerificationReport, VerificationReportRecord};
use jiuzhu_store::{CaseId, DocumentQuery, OwnerKind};
use jiuzhu_verify::{build_report, scan_reader, FeedKind, ReportInput, ReportMember, SourceRef};
use jiuzhu_workflow::CaseState;

use crate::cases::attachments::REPORT_RECORD;
use crate::{App, Error, Result};

/// The record kind of the signed authorisation (一证一书) in the case file.
pub const AUTHORISATION_RECORD: &str = "verification_authorisation";
/// The document type of a scanned authorisation in the one-person-one-file archive.
const AUTHORISATION_DOCUMENT: &str = "authorisation";

/// Whether the signed authorisation is on file: received as a record of the case (intake, or
/// any later step), or a document of type 核对授权书 in the case's or the applicant's file.
async fn authorisation_on_file(
    app: &App,
    g: &Grant<ReadRegistry>,
    case_id: CaseId,
    applicant: i64,
    cs: &CaseState,
) -> Result<bool> {
    if cs.attachments().any(|a| a.kind == AUTHORISATION_RECORD) {
        return Ok(true);
    }
    for owner in [(OwnerKind::Case, case_id), (OwnerKind::Person, applicant)] {
        let docs = app
            .store
            .list_documents(
                g,
                &DocumentQuery {
                    owner: Some(owner),
                    include_withdrawn: false,
                    limit: 1000,
                    offset: 0,
                },
            )
            .await?;
        if docs
            .items
            .iter()
            .any(|d| d.doc_type == AUTHORISATION_DOCUMENT)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Generates and keeps the report of a case at its verification step.
pub async fn generate(
    app: &App,
    g: &Grant<ActOnCase>,
    id: CaseId,
) -> Result<VerificationReportRecord> {
    let actor = g.actor();
    let read = actor.grant::<ReadCases>()?;
    let case = app.get_case(&read, id).await?.ok_or(Error::NotFound)?;
    let wf = app
        .workflows()
        .get(&case.workflow)
        .ok_or_else(|| Error::internal(format!("unknown workflow {}", case.workflow)))?;
    let cs: CaseState = serde_json::from_value(case.state.clone()).map_err(Error::internal_json)?;
    let step = cs
        .open
        .iter()
        .filter_map(|o| wf.step(&o.step))
        .find(|s| s.needs_attached.iter().any(|k| k == REPORT_RECORD))
        .ok_or_else(|| Error::Rejected {
            code: "REPORT_STEP_NOT_OPEN",
            message: "案件当前没有待办的家庭经济状况核对环节,不能生成核对报告".into(),
            fields: vec![],
        })?;
    if !step.roles.contains(&actor.role) {
        return Err(Error::Forbidden {
            code: "CASE_NOT_YOUR_STEP",
            message: format!(
                "“{}”环节由{}办理,核对报告由该环节的办理人员生成",
                step.label,
                step.roles
                    .iter()
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            fields: vec![],
        });
    }
    let reg = actor.grant::<ReadRegistry>()?;
    if !authorisation_on_file(app, &reg, case.id, case.applicant_id, &cs).await? {
        let message =
            "未见申请人签字的家庭经济状况核对授权书,不能开展核对(一证一书,R-PR-2、R-VF-2);\
                       请先登记核对授权书";
        return Err(Error::Rejected {
            code: "AUTHORISATION_MISSING",
            message: message.into(),
            fields: vec![FieldError::new(
                AUTHORISATION_RECORD,
                "AUTHORISATION_MISSING",
                message,
            )],
        });
    }
    let today = app.today();
    let snap = app
        .household_as_of(&reg, case.household_id, today)
        .await?
        .ok_or(Error::NotFound)?;
    let members: Vec<ReportMember> = snap
        .members
        .iter()
        .map(|m| ReportMember {
            name: m.person.facts.name.clone(),
            relation: m.membership.relation.label_zh().to_string(),
            id: m.person.id_number.clone(),
        })
        .collect();
    let division = DivisionCode::parse(&case.division_responsible)
        .map_err(|e| Error::internal_from("a case's division does not read", e))?;
    let lib = app.params().await?.policies.clone();
    let missing = |e: jiuzhu_policy::PolicyError| Error::Rejected {
        code: "POLICY_PARAMETER_MISSING",
        message: format!("核对所需的政策参数无法取得:{e}"),
        fields: vec![],
    };
    let mut policy = super::thresholds::verify_policy(&lib, &division, today).map_err(missing)?;
    // Outreach is the monthly run's business, not an application's.
    policy.medical_outreach_line = None;
    let income_months =
        super::thresholds::report_income_months(&lib, &division, today).map_err(missing)?;
    // Every registered source's latest delivery within the policy's window, as the month's
    // run reads them.
    let windows = super::thresholds::source_windows(&lib, &division, today).map_err(missing)?;
    let latest = app.store.deliveries_for_report(g, &division, today).await?;
    let plan = super::plan_sources(latest, Month::of(today), &windows);
    // People read the source's registered name, not its code.
    let names: std::collections::HashMap<(String, String), String> = plan
        .sources
        .iter()
        .map(|s| ((s.kind.clone(), s.code.clone()), s.name.clone()))
        .collect();
    let deliveries = plan.kept;
    let files = app.feeds().clone();
    let kept: Vec<(SourceRef, std::path::PathBuf, FeedFormat)> = deliveries
        .iter()
        .filter_map(|d| {
            let kind = FeedKind::parse(&d.kind)?;
            Some((
                SourceRef {
                    kind,
                    delivery_id: d.id,
                    source: names
                        .get(&(d.kind.clone(), d.source.clone()))
                        .cloned()
                        .unwrap_or_else(|| d.source.clone()),
                    data_date: d.data_date,
                    sha256: d.sha256.clone(),
                },
                files.path_of(&d.content_key),
                FeedFormat::of_content_key(&d.content_key),
            ))
        })
        .collect();
    let ids: Vec<_> = members.iter().map(|m| m.id.clone()).collect();
    // The kept files may be large (a province's deposits): read them off the async workers,
    // each through the conversion its import used (an xlsx or GBK delivery is kept as sent).
    let sources = tokio::task::spawn_blocking(move || {
        kept.into_iter()
            .map(|(src, path, format)| {
                let failed = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
                let readable = super::readable(&files, &path, format)
                    .map_err(|e| failed(&e))?
                    .map_err(|e| failed(&e.message_zh))?;
                let read_path = readable.path(&path);
                let file = std::fs::File::open(read_path).map_err(|e| failed(&e))?;
                let mut rows = scan_reader(src.kind, &ids, std::io::BufReader::new(file))
                    .map_err(|e| failed(&e))?;
                // Cite the department's own sheet row, as the delivery's rejected rows do.
                for r in &mut rows {
                    r.row += readable.row_offset;
                }
                Ok((src, rows))
            })
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| Error::internal_from("reading the kept deliveries", e))?
    .map_err(|e| Error::internal(format!("reading the kept deliveries: {e}")))?;
    let delivery_ids = sources.iter().map(|(s, _)| s.delivery_id).collect();
    let report = build_report(&ReportInput {
        as_of: today,
        area: snap.facts.area,
        members: &members,
        policy: &policy,
        income_months,
        sources,
    });
    let verdict = serde_json::to_value(report.verdict)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let report = serde_json::to_value(&report).map_err(Error::internal_json)?;
    app.record_verification_report(
        g,
        &NewVerificationReport {
            case_id: case.id,
            as_of: today,
            delivery_ids,
            verdict,
            report,
        },
    )
    .await
}
