//! `/whatif` (政策测算): staff upload a caseload (the JSON of `jiuzhu whatif --input`), enter
//! parameter changes (`参数名=值`, one per line), the month, the effective-from date and an
//! optional region, and see the cost before/after and the households whose 低保 eligibility
//! changes, in total and by township, with the rejected households and their errors in Chinese.
//! The computation is `crate::calc::what_if`, the same as `POST /api/v1/whatif`.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::Money;
use jiuzhu_policy::caseload::Difference;
use jiuzhu_policy::{Month, WhatIfOutput};
use serde_json::Value;

use crate::auth::Authorized;
use crate::calc::{field_label, WhatIfRequest};
use crate::error::{AppError, PageError};
use crate::pages::{read_multipart, take_file};
use crate::views::{render, render_status, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/whatif", get(whatif_form).post(whatif_submit))
}

/// The form's text fields, shown again.
#[derive(Default)]
struct WhatIfForm {
    /// "store" (本辖区在册家庭) or "file" (上传文件).
    source: String,
    changes: String,
    month: String,
    from: String,
    region: String,
    /// With the store's households: only those of this division.
    division: String,
}

/// One line of the result table.
struct DiffRow {
    township: String,
    households: u64,
    base_cost: String,
    new_cost: String,
    cost_difference: String,
    newly_eligible: u64,
    no_longer_eligible: u64,
    newly: String,
    no_longer: String,
}

fn signed(d: &Difference) -> String {
    let m = d.cost_difference;
    if m.is_negative() || m == Money::ZERO {
        m.to_string()
    } else {
        format!("+{m}")
    }
}

fn row(township: &str, d: &Difference) -> DiffRow {
    DiffRow {
        township: township.to_string(),
        households: d.households,
        base_cost: d.base_cost.to_string(),
        new_cost: d.new_cost.to_string(),
        cost_difference: signed(d),
        newly_eligible: d.newly_eligible,
        no_longer_eligible: d.no_longer_eligible,
        newly: d.newly_eligible_households.join("、"),
        no_longer: d.no_longer_eligible_households.join("、"),
    }
}

struct ResultView {
    month: String,
    changes: Vec<String>,
    total: DiffRow,
    townships: Vec<DiffRow>,
    failed: Vec<String>,
    json: String,
}

fn result_view(out: &WhatIfOutput) -> Result<ResultView, AppError> {
    Ok(ResultView {
        month: out.month.to_string(),
        changes: out
            .change
            .iter()
            .map(|c| {
                format!(
                    "{} = {}(地区 {},自 {} 起)",
                    c.param, c.value, c.region, c.from
                )
            })
            .collect(),
        total: row("合计", &out.total),
        townships: out.by_township.iter().map(|(t, d)| row(t, d)).collect(),
        failed: out
            .failed
            .iter()
            .map(|f| {
                let errors: Vec<String> = f
                    .errors
                    .iter()
                    .map(|e| format!("{}:{}", field_label(&e.field, &[]), e.message))
                    .collect();
                format!(
                    "第{}户{}:{}",
                    f.index + 1,
                    f.code
                        .as_deref()
                        .map(|c| format!("({c})"))
                        .unwrap_or_default(),
                    errors.join(";")
                )
            })
            .collect(),
        json: serde_json::to_string_pretty(out).map_err(AppError::internal)?,
    })
}

#[derive(Template)]
#[template(path = "whatif.html")]
struct WhatIfPage {
    nav: Nav,
    /// The largest caseload file the form takes, as stated on it.
    max_upload: String,
    form: WhatIfForm,
    errors: Vec<String>,
    result: Option<ResultView>,
}

/// Prefill (e.g. from "先测算影响" on a policy page): `?changes=PARAM%3DVALUE&from=…&region=…`.
#[derive(serde::Deserialize, Default)]
struct Prefill {
    changes: Option<String>,
    month: Option<String>,
    from: Option<String>,
    region: Option<String>,
}

async fn whatif_form(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    axum::extract::Query(p): axum::extract::Query<Prefill>,
) -> Response {
    render(&WhatIfPage {
        nav: Nav::new(&a.auth, "政策测算"),
        max_upload: crate::views::human_size(
            crate::limits::upload_limit(&state.config, "/whatif").stated,
        ),
        form: WhatIfForm {
            month: p
                .month
                .unwrap_or_else(|| Month::of(state.clock.today()).to_string()),
            changes: p.changes.unwrap_or_default(),
            from: p.from.unwrap_or_default(),
            region: p.region.unwrap_or_default(),
            division: String::new(),
            source: "store".into(),
        },
        errors: vec![],
        result: None,
    })
}

fn error_messages(e: &AppError) -> Vec<String> {
    if e.fields.is_empty() {
        vec![e.message.clone()]
    } else {
        e.fields
            .iter()
            .map(|f| format!("{}:{}", field_label(&f.field, &[]), f.message))
            .collect()
    }
}

async fn whatif_submit(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let nav = Nav::new(&a.auth, "政策测算");
    let limit = crate::limits::upload_limit(&state.config, "/whatif");
    let (mut files, texts) = read_multipart(mp, limit).await?;
    let text = |k: &str| {
        texts
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let form = WhatIfForm {
        changes: text("changes"),
        month: text("month"),
        from: text("from"),
        region: text("region"),
        division: text("division"),
        // Without a choice (older clients) the caseload is the uploaded file.
        source: if text("source") == "store" {
            "store".into()
        } else {
            "file".into()
        },
    };
    let lib = state.app.params().await?.policies.clone();
    let division = if form.source == "store" {
        a.grant.scope().division_in("division", &form.division)
    } else {
        Ok(None)
    };
    let stored = match &division {
        Ok(d) if form.source == "store" => {
            jiuzhu_app::month::read_for_month(&state.app, &a.grant, &form.month, d.as_ref()).await?
        }
        _ => None,
    };
    let changes: Vec<String> = form.changes.lines().map(str::to_string).collect();
    let outcome = (|| {
        division.map_err(|e| AppError::invalid(vec![e]))?;
        fn req<'a>(
            items: &'a [Value],
            form: &'a WhatIfForm,
            changes: &'a [String],
        ) -> WhatIfRequest<'a> {
            WhatIfRequest {
                households: items,
                changes,
                month: &form.month,
                from: &form.from,
                region: &form.region,
            }
        }
        if form.source == "store" {
            return match stored {
                Some(read) => crate::calc::what_if_read(&lib, &req(&[], &form, &changes), read),
                None => crate::calc::what_if(&lib, &req(&[], &form, &changes)),
            };
        }
        let file = take_file(&mut files, "caseload").ok_or_else(|| {
            AppError::invalid(vec![jiuzhu_domain::FieldError::new(
                "caseload",
                "REQUIRED",
                "请选择家庭数据文件(JSON)",
            )])
        })?;
        let items: Vec<Value> =
            serde_json::from_slice(file.bytes().unwrap_or_default()).map_err(|e| {
                AppError::invalid(vec![jiuzhu_domain::FieldError::new(
                    "caseload",
                    "CASELOAD_JSON",
                    format!("文件应为家庭计算输入的 JSON 数组(见 docs/calc.md):{e}"),
                )])
            })?;
        crate::calc::what_if(&lib, &req(&items, &form, &changes))
    })();
    match outcome {
        Ok(out) => Ok(render(&WhatIfPage {
            nav,
            max_upload: crate::views::human_size(
                crate::limits::upload_limit(&state.config, "/whatif").stated,
            ),
            form,
            errors: vec![],
            result: Some(result_view(&out)?),
        })),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => Ok(render_status(
            e.status,
            &WhatIfPage {
                nav,
                max_upload: crate::views::human_size(
                    crate::limits::upload_limit(&state.config, "/whatif").stated,
                ),
                errors: error_messages(&e),
                form,
                result: None,
            },
        )),
        Err(e) => Err(e.into()),
    }
}
