//! The screens of the monthly comparison (docs/feeds.md):
//!
//! * `/feeds`: deliveries with filters, and an upload form (CSV in UTF-8 or GBK, or xlsx) that
//!   runs as a background job with a progress bar, then `/feeds/{id}`: the delivery and its
//!   rejected rows, paged.
//! * `/verification/runs` and `POST/GET /api/v1/verification/runs`: the month's comparison
//!   started over HTTP, in the background, and the runs with their counts by kind and township.
//! * `/verification/leads` and `/api/v1/verification/leads`: outreach leads (政策找人, R-LI-4),
//!   with 转为申请 to `/cases/new` for persons in the registry.
//!
//! Thin, like `feeds_api.rs`: the work is `jiuzhu_app::verification`, shared with the CLI. Reading
//! deliveries, runs and leads needs `ReadVerification` (auditors read, delivering and running
//! nothing); a department officer reads only the deliveries of its department's kinds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::FeedFiles;
use jiuzhu_app::records::{
    DeliveryReader, FeedDelivery, LeadQuery, LeadRecord, RunSummary, SourceUse,
};
use jiuzhu_app::verification::{self as feeds, FeedProgress, NewFeedFile};
use jiuzhu_domain::access::{HandleWarnings, ImportFeeds, ReadVerification, RunVerification};
use jiuzhu_domain::{Action, Actor, DivisionCode, FieldError, Month, UserId};
use jiuzhu_verify::FeedKind;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::pages::see_other;
use crate::views::{fmt_time, render, render_status, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feeds", get(feeds_page).post(upload))
        .route("/feeds/jobs/{id}", get(job_page))
        .route("/feeds/jobs/{id}/progress", get(job_progress))
        .route("/feeds/{id}", get(delivery_page))
        .route("/verification/runs", get(runs_page).post(start_run_form))
        .route("/verification/leads", get(leads_page))
        .route("/verification/leads/{id}/handle", post(handle_lead_form))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/verification/runs", get(api_list_runs).post(api_start_run))
        .route("/verification/runs/jobs/{id}", get(api_job))
        .route("/verification/leads", get(api_leads))
        .route("/verification/leads/{id}/handle", post(api_handle_lead))
}

/// Rejected rows shown per page of `/feeds/{id}`.
const REJECTIONS_PER_PAGE: usize = 100;

/// Whether the actor may deliver `kind`: the rule of `POST /api/v1/feeds/{kind}` (department
/// officers their own department's kinds; county approvers and administrators any).
pub fn may_push(actor: &Actor, kind: FeedKind) -> bool {
    !actor.role.is_department() || crate::feeds_api::delivers(actor.department, kind)
}

fn kinds_for(actor: &Actor) -> Vec<FeedKind> {
    FeedKind::ALL
        .iter()
        .copied()
        .filter(|k| may_push(actor, *k))
        .collect()
}

/// How the actor reads deliveries: every one with `ReadVerification`; otherwise, delivering,
/// those of the kinds it may deliver (a department officer: its department's). 403 for the
/// others.
pub(crate) fn delivery_reader(actor: &Actor) -> Result<DeliveryReader, AppError> {
    let denied = match actor.grant::<ReadVerification>() {
        Ok(g) => return Ok(DeliveryReader::Verification(g)),
        Err(denied) => denied,
    };
    match actor.grant::<ImportFeeds>() {
        Ok(grant) => Ok(DeliveryReader::Deliverer {
            kinds: kinds_for(actor)
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            grant,
        }),
        Err(_) => Err(denied.into()),
    }
}

// ---- background jobs ---------------------------------------------------------------------------

/// What the progress endpoints return.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedJobStatus {
    pub id: u64,
    /// `upload` or `run`.
    pub job: String,
    /// `running`, `done` or `failed`.
    pub phase: String,
    pub message: String,
    /// Bytes read of the delivery (uploads).
    pub done: u64,
    pub total: u64,
    pub percent: u64,
    /// Where the result is shown when done.
    pub link: Option<String>,
    /// The delivery (uploads) or the run (runs), when done.
    pub result: Option<Value>,
}

struct FeedJob {
    owner: UserId,
    status: FeedJobStatus,
    progress: Arc<FeedProgress>,
}

/// Background uploads and runs of this service, each visible to the user who started it.
#[derive(Clone, Default)]
pub struct FeedJobs {
    inner: Arc<Mutex<HashMap<u64, FeedJob>>>,
    next: Arc<AtomicU64>,
}

impl FeedJobs {
    fn create(&self, owner: UserId, job: &str, message: &str) -> (u64, Arc<FeedProgress>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let progress = Arc::new(FeedProgress::default());
        self.inner.lock().expect("jobs lock").insert(
            id,
            FeedJob {
                owner,
                status: FeedJobStatus {
                    id,
                    job: job.into(),
                    phase: "running".into(),
                    message: message.into(),
                    done: 0,
                    total: 0,
                    percent: 0,
                    link: None,
                    result: None,
                },
                progress: progress.clone(),
            },
        );
        (id, progress)
    }

    pub fn status(&self, id: u64, user: UserId) -> Option<FeedJobStatus> {
        let jobs = self.inner.lock().expect("jobs lock");
        let job = jobs.get(&id).filter(|j| j.owner == user)?;
        let mut s = job.status.clone();
        if s.phase == "running" {
            s.done = job.progress.bytes_read.load(Ordering::Relaxed);
            s.total = job.progress.bytes_total.load(Ordering::Relaxed);
            s.percent = (s.done * 100).checked_div(s.total).unwrap_or(0).min(99);
        }
        Some(s)
    }

    fn finish(&self, id: u64, f: impl FnOnce(&mut FeedJobStatus)) {
        if let Some(job) = self.inner.lock().expect("jobs lock").get_mut(&id) {
            let total = job.progress.bytes_total.load(Ordering::Relaxed);
            job.status.done = total;
            job.status.total = total;
            f(&mut job.status);
        }
    }
}

// ---- deliveries --------------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct FeedFilter {
    kind: Option<String>,
    /// accepted | refused
    status: Option<String>,
    /// Part of the source's name or code.
    source: Option<String>,
}

struct DeliveryRow {
    id: i64,
    kind_zh: String,
    source: String,
    data_date: String,
    sha_short: String,
    format: String,
    rows_total: i64,
    rows_accepted: i64,
    rows_rejected: i64,
    refused: bool,
    imported_by: String,
    imported_at: String,
}

/// Who did something, as people read it: the account's name (the system's own actions as
/// 系统), the username only when the account is gone.
fn person_of(people: &HashMap<String, String>, username: &str) -> String {
    if username.starts_with("system:") {
        return "系统".to_string();
    }
    people
        .get(username)
        .cloned()
        .unwrap_or_else(|| username.to_string())
}

/// The names of the accounts among `usernames`.
async fn people_of(
    state: &AppState,
    usernames: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, AppError> {
    let mut list: Vec<String> = usernames.collect();
    list.sort();
    list.dedup();
    Ok(state.app.display_names(&list).await?)
}

fn delivery_row(
    d: &FeedDelivery,
    names: &HashMap<(String, String), String>,
    people: &HashMap<String, String>,
) -> DeliveryRow {
    DeliveryRow {
        id: d.id,
        kind_zh: crate::warnings::source_label(&d.kind),
        source: names
            .get(&(d.kind.clone(), d.source.clone()))
            .cloned()
            .unwrap_or_else(|| d.source.clone()),
        data_date: d.data_date.to_string(),
        sha_short: d.sha256.chars().take(12).collect(),
        format: jiuzhu_domain::FeedFormat::of_content_key(&d.content_key)
            .label_zh()
            .into(),
        rows_total: d.rows_total,
        rows_accepted: d.rows_accepted,
        rows_rejected: d.rows_rejected,
        refused: d.status == "refused",
        imported_by: person_of(people, &d.imported_by),
        imported_at: fmt_time(d.imported_at),
    }
}

#[derive(Template)]
#[template(path = "feeds/list.html")]
struct FeedsPage {
    nav: Nav,
    /// The largest delivery the upload form takes, as stated on it.
    max_upload: String,
    kinds: Vec<(String, String)>,
    filter_kind: String,
    filter_status: String,
    filter_source: String,
    rows: Vec<DeliveryRow>,
    /// The sources the user delivers for, by kind: (kind label, [(`kind:code`, name)]).
    sources: Vec<(String, Vec<(String, String)>)>,
    /// What the rejected form held: the chosen source (`kind:code`) and data date.
    chosen_source: String,
    data_date: String,
    errors: Vec<String>,
    /// The user may deliver (the upload form is shown).
    can_push: bool,
}

/// The registered sources in service the actor delivers for, grouped by kind for the form.
async fn sources_for_form(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, Vec<(String, String)>)>, AppError> {
    if !actor.may(Action::ImportFeeds) {
        return Ok(Vec::new());
    }
    let sources = state.app.feed_sources(&delivery_reader(actor)?).await?;
    Ok(kinds_for(actor)
        .into_iter()
        .map(|k| {
            let of_kind: Vec<(String, String)> = sources
                .iter()
                .filter(|s| s.kind == k.as_str() && !s.retired)
                .map(|s| (format!("{}:{}", s.kind, s.code), s.name.clone()))
                .collect();
            (k.label_zh().to_string(), of_kind)
        })
        .filter(|(_, of_kind)| !of_kind.is_empty())
        .collect())
}

/// The registered names of sources by (kind, code), for listing deliveries by name.
pub(crate) async fn source_names(
    state: &AppState,
    actor: &Actor,
) -> Result<HashMap<(String, String), String>, AppError> {
    let sources = state.app.feed_sources(&delivery_reader(actor)?).await?;
    Ok(sources
        .into_iter()
        .map(|s| ((s.kind, s.code), s.name))
        .collect())
}

async fn deliveries_for(
    state: &AppState,
    actor: &Actor,
    f: &FeedFilter,
    names: &HashMap<(String, String), String>,
) -> Result<Vec<FeedDelivery>, AppError> {
    let kind = f.kind.as_deref().filter(|k| !k.is_empty());
    // Department officers read what they may push, nothing of other departments.
    let reader = delivery_reader(actor)?;
    let all = state.app.list_deliveries(&reader, kind, 500).await?;
    let source = f.source.as_deref().map(str::trim).unwrap_or("");
    Ok(all
        .into_iter()
        .filter(|d| match f.status.as_deref() {
            Some(s) if !s.is_empty() => d.status == s,
            _ => true,
        })
        .filter(|d| {
            let name = names.get(&(d.kind.clone(), d.source.clone()));
            source.is_empty()
                || d.source.contains(source)
                || name.is_some_and(|n| n.contains(source))
        })
        .collect())
}

/// What the upload form held when it was refused (kept for the user to correct).
#[derive(Default)]
struct UploadForm {
    source_ref: String,
    data_date: String,
}

async fn feeds_page_of(
    state: &AppState,
    auth: &Auth,
    f: &FeedFilter,
    form: UploadForm,
    errors: Vec<String>,
) -> Result<FeedsPage, AppError> {
    let actor = auth.actor();
    let names = source_names(state, actor).await?;
    let list = deliveries_for(state, actor, f, &names).await?;
    let people = people_of(state, list.iter().map(|d| d.imported_by.clone())).await?;
    let rows = list
        .iter()
        .map(|d| delivery_row(d, &names, &people))
        .collect();
    Ok(FeedsPage {
        nav: Nav::new(auth, "核对数据"),
        max_upload: crate::views::human_size(
            crate::limits::upload_limit(&state.config, "/feeds").stated,
        ),
        can_push: actor.may(Action::ImportFeeds),
        kinds: kinds_for(actor)
            .into_iter()
            .map(|k| (k.as_str().to_string(), k.label_zh().to_string()))
            .collect(),
        filter_kind: f.kind.clone().unwrap_or_default(),
        filter_status: f.status.clone().unwrap_or_default(),
        filter_source: f.source.clone().unwrap_or_default(),
        rows,
        sources: sources_for_form(state, actor).await?,
        chosen_source: form.source_ref,
        data_date: if form.data_date.is_empty() {
            state.clock.today().to_string()
        } else {
            form.data_date
        },
        errors,
    })
}

async fn feeds_page(
    State(state): State<AppState>,
    a: Auth,
    Query(f): Query<FeedFilter>,
) -> Result<Response, PageError> {
    let page = feeds_page_of(&state, &a, &f, UploadForm::default(), vec![]).await?;
    Ok(render(&page))
}

/// Reads the upload form, streaming the file to a staged file in the feeds directory.
async fn read_upload(
    files: &FeedFiles,
    mut mp: Multipart,
    limit: crate::limits::Limit,
) -> Result<
    (
        HashMap<String, String>,
        Option<(String, std::path::PathBuf)>,
    ),
    AppError,
> {
    let mut texts = HashMap::new();
    let mut file = None;
    let bad = |e| crate::limits::multipart_error(e, limit);
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let staged = files.stage_new().map_err(crate::feeds_api::feed_error)?;
            let mut out = feeds::create_private_file(staged.path())
                .await
                .map_err(AppError::internal)?;
            let mut n = 0usize;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                n += chunk.len();
                crate::feeds_api::check_delivery_size(n as u64)?;
                out.write_all(&chunk).await.map_err(AppError::internal)?;
            }
            out.flush().await.map_err(AppError::internal)?;
            if n > 0 && name == "file" {
                file = Some((file_name, staged.into_path()));
            }
        } else {
            let text = crate::forms::bounded_text_field(&mut field).await?;
            texts.insert(name, text.trim().to_string());
        }
    }
    Ok((texts, file))
}

async fn upload(
    State(state): State<AppState>,
    a: Authorized<ImportFeeds>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let files = state.app.feeds().clone();
    let limit = crate::limits::upload_limit(&state.config, "/feeds");
    let (texts, file) = read_upload(&files, mp, limit).await?;
    let actor = a.grant.actor().clone();
    let mut errors: Vec<FieldError> = Vec::new();
    // The page's form names a registered source as `kind:code`; a client may send both apart.
    let (kind_text, source_text) = match texts.get("source_ref").filter(|s| !s.is_empty()) {
        Some(r) => {
            let (k, c) = r.split_once(':').unwrap_or((r.as_str(), ""));
            (Some(k.to_string()), Some(c.to_string()))
        }
        None => (texts.get("kind").cloned(), texts.get("source").cloned()),
    };
    let kind = kind_text.as_deref().and_then(FeedKind::parse);
    match kind {
        None => errors.push(FieldError::new("kind", "REQUIRED", "请选择数据来源")),
        Some(k) if !may_push(&actor, k) => errors.push(FieldError::new(
            "kind",
            "FEED_NOT_YOUR_DEPARTMENT",
            format!("本部门不能报送“{}”数据", k.label_zh()),
        )),
        Some(_) => {}
    }
    let source = source_text.filter(|s| !s.is_empty());
    if source.is_none() && kind.is_some() {
        errors.push(FieldError::new("source", "REQUIRED", "请选择数据来源"));
    }
    let data_date = texts
        .get("data_date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if data_date.is_none() {
        errors.push(FieldError::new(
            "data_date",
            "DATE_INVALID",
            "数据日期应为 YYYY-MM-DD",
        ));
    }
    if file.is_none() {
        errors.push(FieldError::new("file", "REQUIRED", "请选择数据文件"));
    }
    let (Some(kind), Some(source), Some(data_date), Some((name, path)), true) = (
        kind,
        source.clone(),
        data_date,
        file.clone(),
        errors.is_empty(),
    ) else {
        if let Some((_, p)) = file {
            let _ = std::fs::remove_file(p);
        }
        let form = UploadForm {
            source_ref: match (&kind_text, &source) {
                (Some(k), Some(c)) => format!("{k}:{c}"),
                _ => String::new(),
            },
            data_date: texts.get("data_date").cloned().unwrap_or_default(),
        };
        let page = feeds_page_of(
            &state,
            &a.auth,
            &FeedFilter::default(),
            form,
            errors.iter().map(|e| e.message.clone()).collect(),
        )
        .await?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let owner = a.auth.user().id;
    let (id, progress) = state
        .feed_jobs
        .create(owner, "upload", &format!("正在读取“{name}”…"));
    let jobs = state.feed_jobs.clone();
    let app = state.app.clone();
    let grant = a.grant;
    tokio::spawn(async move {
        let f = NewFeedFile {
            kind,
            source,
            data_date,
            path: path.clone(),
            staged: true,
        };
        let r = feeds::import_feed_with_progress(&app, &grant, &f, Some(progress)).await;
        let _ = std::fs::remove_file(&path);
        match r {
            Ok(imported) => {
                let d = &imported.delivery;
                jobs.finish(id, |s| {
                    s.phase = "done".into();
                    s.percent = 100;
                    s.message = if let Some(reason) = unreadable_reason(&imported) {
                        format!("文件未能读取,整批退回:{reason}")
                    } else if d.status == "refused" && d.rows_accepted == 0 && d.rows_rejected == d.rows_total {
                        format!(
                            "全部 {} 行均有错误,整批退回(不替换该来源此前报送的数据);请改正后重新报送",
                            d.rows_total
                        )
                    } else if d.status == "refused" {
                        format!(
                            "数据已登记,但按来源规则整批退回:共 {} 行,拒收 {} 行",
                            d.rows_total, d.rows_rejected
                        )
                    } else {
                        format!(
                            "导入完成:共 {} 行,采用 {} 行,拒收 {} 行",
                            d.rows_total, d.rows_accepted, d.rows_rejected
                        )
                    };
                    s.link = Some(format!("/feeds/{}", d.id));
                    s.result = serde_json::to_value(d).ok();
                });
            }
            Err(e) => {
                let err = crate::feeds_api::feed_error(e);
                jobs.finish(id, |s| {
                    s.phase = "failed".into();
                    s.message = format!("导入失败:{}", err.message);
                });
            }
        }
    });
    Ok(see_other(&format!("/feeds/jobs/{id}")))
}

#[derive(Template)]
#[template(path = "feeds/job.html")]
struct JobPage {
    nav: Nav,
    heading: String,
    progress_url: String,
    back: String,
}

async fn job_page(
    State(state): State<AppState>,
    a: crate::auth::Auth,
    Path(id): Path<u64>,
) -> Result<Response, PageError> {
    let s = state
        .feed_jobs
        .status(id, a.user().id)
        .ok_or_else(AppError::not_found)?;
    let (heading, back) = if s.job == "run" {
        ("比对进度", "/verification/runs")
    } else {
        ("数据导入进度", "/feeds")
    };
    Ok(render(&JobPage {
        nav: Nav::new(&a, heading),
        heading: heading.into(),
        progress_url: format!("/feeds/jobs/{id}/progress"),
        back: back.into(),
    }))
}

async fn job_progress(
    State(state): State<AppState>,
    a: crate::auth::Auth,
    Path(id): Path<u64>,
) -> Result<Json<FeedJobStatus>, ApiError> {
    state
        .feed_jobs
        .status(id, a.user().id)
        .map(Json)
        .ok_or_else(|| ApiError(AppError::not_found()))
}

struct RejectionRow {
    /// The line of the department's file, or 整个文件 for a file that could not be read.
    row: String,
    column: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "feeds/show.html")]
struct DeliveryPage {
    nav: Nav,
    d: DeliveryRow,
    sha256: String,
    bytes: i64,
    rejection_policy: String,
    rejections: Vec<RejectionRow>,
    stored: usize,
    page: usize,
    pages: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageParam {
    page: Option<usize>,
}

async fn delivery_page(
    State(state): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(p): Query<PageParam>,
) -> Result<Response, PageError> {
    let reader = delivery_reader(a.actor())?;
    let d = state
        .app
        .get_delivery(&reader, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let all = state.app.delivery_rejections(&reader, id).await?;
    let whole_file = refused_unread(&d);
    let pages = all.len().div_ceil(REJECTIONS_PER_PAGE).max(1);
    let page = p.page.unwrap_or(1).clamp(1, pages);
    let rejections = all
        .iter()
        .skip((page - 1) * REJECTIONS_PER_PAGE)
        .take(REJECTIONS_PER_PAGE)
        .map(|r| RejectionRow {
            row: if whole_file {
                "整个文件".into()
            } else {
                r.row.to_string()
            },
            column: r.column.clone().unwrap_or_else(|| "整行".into()),
            reason: r.reason.clone(),
        })
        .collect();
    Ok(render(&DeliveryPage {
        nav: Nav::new(&a, "核对数据"),
        sha256: d.sha256.clone(),
        bytes: d.bytes,
        rejection_policy: if whole_file {
            "文件无法按该数据类型读取,整批退回".to_string()
        } else {
            rejection_policy_zh(&d.rejection_policy)
        },
        d: delivery_row(
            &d,
            &source_names(&state, a.actor()).await?,
            &people_of(&state, std::iter::once(d.imported_by.clone())).await?,
        ),
        rejections,
        stored: all.len(),
        page,
        pages,
    }))
}

fn rejection_policy_zh(policy: &str) -> String {
    match policy {
        "keep_good_rows" => "拒收错误行,采用其余行".to_string(),
        p => match p.strip_prefix("refuse_above:") {
            Some(n) => format!("错误行超过 {n} 行则整批退回"),
            None => p.to_string(),
        },
    }
}

/// Refused before a single row was read (not a table of this kind, over a reader's limit, no
/// rows): its one rejection is about the file, not a line of it.
fn refused_unread(d: &FeedDelivery) -> bool {
    d.status == "refused" && d.rows_total == 0
}

/// Why a delivery was refused as a whole before any row was read, if it was.
fn unreadable_reason(imported: &feeds::ImportedFeed) -> Option<&str> {
    refused_unread(&imported.delivery)
        .then(|| imported.rejections.first().map(|r| r.reason.as_str()))
        .flatten()
}

// ---- runs --------------------------------------------------------------------------------------

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct RunInput {
    /// `YYYY-MM`.
    month: String,
    /// Only the households under this division (within the caller's jurisdiction).
    division: Option<String>,
}

/// Checks the request and starts the month's comparison in the background; the job's id.
async fn start_run(
    state: &AppState,
    a: Authorized<RunVerification>,
    input: &RunInput,
) -> Result<u64, AppError> {
    let mut errors = Vec::new();
    let month = Month::parse(&input.month);
    match month {
        None => errors.push(FieldError::new(
            "month",
            "MONTH_INVALID",
            "比对月份应为 YYYY-MM",
        )),
        Some(m) => {
            if let Err(reason) = feeds::refuse_future_month(m, state.clock.now()) {
                errors.push(FieldError::new("month", "MONTH_IN_FUTURE", reason));
            }
        }
    }
    let division = a
        .grant
        .scope()
        .division_in("division", input.division.as_deref().unwrap_or_default())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let Some(month) = month.filter(|_| errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let planned = jiuzhu_app::verification::plan_run(&state.app, &a.grant, month, division).await?;
    planned.something_to_compare()?;
    let owner = a.auth.user().id;
    let (id, _) = state
        .feed_jobs
        .create(owner, "run", &format!("正在比对 {month}…"));
    let jobs = state.feed_jobs.clone();
    let app = state.app.clone();
    let grant = a.grant;
    tokio::spawn(async move {
        match jiuzhu_app::verification::run_planned(&app, &grant, planned).await {
            Ok(report) => {
                let run = &report.run;
                let result = json!({
                    "run": run, "found_by_township": report.found_by_township(),
                    "leads": report.leads_stored,
                });
                jobs.finish(id, |s| {
                    s.phase = "done".into();
                    s.percent = 100;
                    s.message = format!(
                        "比对完成:{} 户,新预警 {} 条,此前预警仍未销号 {} 条,新政策找人线索 {} 条",
                        run.households,
                        run.warnings,
                        run.carried
                            .still_open
                            .values()
                            .map(|s| s.count)
                            .sum::<i64>(),
                        report.leads_stored
                    );
                    s.link = Some(format!("/verification/runs#run-{}", run.id));
                    s.result = Some(result);
                });
            }
            Err(e) => {
                let err = crate::feeds_api::feed_error(e);
                jobs.finish(id, |s| {
                    s.phase = "failed".into();
                    s.message = format!("比对失败:{}", err.message);
                });
            }
        }
    });
    Ok(id)
}

/// Starts the month's comparison (一月一比对) in the background over the latest accepted
/// delivery of each kind up to the month's end; county approvers and administrators. 202 with
/// `{job, status_url}`; poll `GET /api/v1/verification/runs/jobs/{job}`.
#[utoipa::path(post, path = "/api/v1/verification/runs", tag = "verification",
    request_body = RunInput,
    responses((status = 202, body = JobStarted), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_start_run(
    State(state): State<AppState>,
    a: Authorized<RunVerification>,
    JsonBody(input): JsonBody<RunInput>,
) -> Result<Response, ApiError> {
    let id = start_run(&state, a, &input).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobStarted {
            job: id,
            status_url: format!("/api/v1/verification/runs/jobs/{id}"),
        }),
    )
        .into_response())
}

/// A background job started: poll `status_url` for its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStarted {
    pub job: u64,
    pub status_url: String,
}

/// Runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunSummary>,
}

/// A background run's progress; when done, `result` holds the run with its counts by kind and
/// township and the number of outreach leads stored.
#[utoipa::path(get, path = "/api/v1/verification/runs/jobs/{id}", tag = "verification",
    params(("id" = u64, Path)),
    responses((status = 200, body = FeedJobStatus), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_job(
    State(state): State<AppState>,
    a: Authorized<RunVerification>,
    Path(id): Path<u64>,
) -> Result<Json<FeedJobStatus>, ApiError> {
    state
        .feed_jobs
        .status(id, a.auth.user().id)
        .map(Json)
        .ok_or_else(|| ApiError(AppError::not_found()))
}

/// Runs in the caller's jurisdiction, newest first, with counts by warning kind, by township
/// (within the caller's jurisdiction) and outreach leads.
#[utoipa::path(get, path = "/api/v1/verification/runs", tag = "verification",
    responses((status = 200, body = RunList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_list_runs(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
) -> Result<Json<RunList>, ApiError> {
    let items = state.app.list_runs(&a.grant, 50).await?;
    Ok(Json(RunList { items }))
}

struct RunRow {
    id: i64,
    month: String,
    division: String,
    finished_at: String,
    run_by: String,
    households: i64,
    warnings: i64,
    leads: i64,
    by_kind: String,
    by_township: String,
    /// Findings that repeat a stored warning (left open as it is, or closed on the same facts).
    found_again: i64,
    /// Open warnings of earlier runs by kind, with the month the oldest was first raised.
    still_open: String,
    sources: Vec<SourceRow>,
}

/// A registered source as a run used it (or did not), for the run's table of sources.
struct SourceRow {
    kind_zh: String,
    name: String,
    status_zh: &'static str,
    used: bool,
    /// The data date of its latest delivery, or "—", and that delivery (编号).
    data_date: String,
    delivery_id: Option<i64>,
    oldest_accepted: String,
}

fn run_row(r: &RunSummary, people: &HashMap<String, String>) -> RunRow {
    let run = &r.run;
    let name_of = |code: &str| {
        r.names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    };
    let found: i64 = run.carried.found.values().sum();
    RunRow {
        id: run.id,
        month: run.month.clone(),
        division: name_of(&run.division),
        finished_at: fmt_time(run.finished_at),
        run_by: person_of(people, &run.run_by),
        households: run.households,
        warnings: run.warnings,
        leads: r.leads,
        by_kind: run
            .counts
            .iter()
            .map(|(k, n)| format!("{} {n}", crate::warnings::kind_label(k)))
            .collect::<Vec<_>>()
            .join("、"),
        by_township: r
            .by_township
            .iter()
            .map(|(t, n)| format!("{} {n}", name_of(t)))
            .collect::<Vec<_>>()
            .join("、"),
        // Runs from before warnings were identified by their facts record no findings apart.
        found_again: (found - run.warnings).max(0),
        still_open: run
            .carried
            .still_open
            .iter()
            .map(|(k, s)| {
                format!(
                    "{} {}(最早 {})",
                    crate::warnings::kind_label(k),
                    s.count,
                    s.since
                )
            })
            .collect::<Vec<_>>()
            .join("、"),
        sources: run
            .sources
            .iter()
            .map(|s| SourceRow {
                kind_zh: crate::warnings::source_label(&s.kind),
                name: s.name.clone(),
                status_zh: s.status.label_zh(),
                used: s.status == SourceUse::Used,
                data_date: s.data_date.map_or("—".into(), |d| d.to_string()),
                delivery_id: s.delivery_id,
                oldest_accepted: s.oldest_accepted.to_string(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "verification/runs.html")]
struct RunsPage {
    nav: Nav,
    month: String,
    division: String,
    runs: Vec<RunRow>,
    errors: Vec<String>,
    /// The user may start a run (the form is shown).
    can_run: bool,
}

/// The runs the actor reads (none for one that runs but does not read the comparison).
async fn runs_of(state: &AppState, actor: &Actor) -> Result<Vec<RunRow>, AppError> {
    Ok(match actor.grant::<ReadVerification>() {
        Ok(g) => {
            let runs = state.app.list_runs(&g, 50).await?;
            let people = people_of(state, runs.iter().map(|r| r.run.run_by.clone())).await?;
            runs.iter().map(|r| run_row(r, &people)).collect()
        }
        Err(_) => Vec::new(),
    })
}

async fn runs_page(State(state): State<AppState>, a: Auth) -> Result<Response, PageError> {
    let actor = a.actor();
    // Who runs the comparison sees the form; who reads it the runs; anyone else is refused.
    if !actor.may(Action::RunVerification) {
        actor.grant::<ReadVerification>()?;
    }
    Ok(render(&RunsPage {
        nav: Nav::new(&a, "一月一比对"),
        month: state.clock.today().format("%Y-%m").to_string(),
        division: String::new(),
        runs: runs_of(&state, actor).await?,
        errors: vec![],
        can_run: actor.may(Action::RunVerification),
    }))
}

async fn start_run_form(
    State(state): State<AppState>,
    a: Authorized<RunVerification>,
    Form(input): Form<RunInput>,
) -> Result<Response, PageError> {
    let nav = Nav::new(&a.auth, "一月一比对");
    let actor = a.grant.actor().clone();
    match start_run(&state, a, &input).await {
        Ok(id) => Ok(see_other(&format!("/feeds/jobs/{id}"))),
        Err(e) => {
            let runs = runs_of(&state, &actor).await?;
            let mut errors: Vec<String> = e.fields.iter().map(|f| f.message.clone()).collect();
            if errors.is_empty() {
                errors.push(e.message.clone());
            }
            Ok(render_status(
                e.status,
                &RunsPage {
                    nav,
                    month: input.month.clone(),
                    division: input.division.clone().unwrap_or_default(),
                    runs,
                    errors,
                    can_run: true,
                },
            ))
        }
    }
}

// ---- outreach leads ----------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LeadParams {
    run: Option<i64>,
    month: Option<String>,
    /// open | handled
    status: Option<String>,
    division: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn lead_query(p: &LeadParams) -> Result<LeadQuery, AppError> {
    let division = p
        .division
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(|d| DivisionCode::parse(d).map_err(|_| AppError::bad_request("division 无效")))
        .transpose()?;
    Ok(LeadQuery {
        id: None,
        run_id: p.run,
        month: p.month.clone().filter(|m| !m.is_empty()),
        status: p.status.clone().filter(|s| !s.is_empty()),
        division,
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    })
}

/// Outreach leads (政策找人) in the caller's jurisdiction: non-recipients whose out-of-pocket
/// medical cost in the month is above the ordinary line, biggest first; identity numbers masked.
#[utoipa::path(get, path = "/api/v1/verification/leads", tag = "verification", params(LeadParams),
    responses((status = 200, body = LeadList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_leads(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<LeadParams>,
) -> Result<Json<LeadList>, ApiError> {
    let page = state
        .app
        .list_outreach_leads(&a.grant, &lead_query(&p)?)
        .await?;
    Ok(Json(LeadList {
        items: page.items,
        total: page.total,
    }))
}

/// A page of leads and how many there are.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadList {
    pub items: Vec<LeadRecord>,
    pub total: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct HandleInput {
    /// What was done (contacted, helped to apply, not eligible…).
    note: String,
}

/// Records that a lead was followed up (once; 409 when it was handled already).
#[utoipa::path(post, path = "/api/v1/verification/leads/{id}/handle", tag = "verification",
    params(("id" = i64, Path)), request_body = HandleInput,
    responses((status = 200, body = LeadRecord), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_handle_lead(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<HandleInput>,
) -> Result<Json<LeadRecord>, ApiError> {
    Ok(Json(
        state
            .app
            .handle_outreach_lead(&a.grant, id, &input.note)
            .await?,
    ))
}

struct LeadRow {
    id: i64,
    month: String,
    division: String,
    person: String,
    name: String,
    person_id: Option<i64>,
    settlement_date: String,
    out_of_pocket: String,
    threshold: String,
    row: i64,
    delivery_id: Option<i64>,
    handled: bool,
    note: String,
    handled_by: String,
}

#[derive(Template)]
#[template(path = "verification/leads.html")]
struct LeadsPage {
    nav: Nav,
    status: String,
    total: i64,
    leads: Vec<LeadRow>,
    may_apply: bool,
    /// The user may mark leads followed up.
    can_handle: bool,
}

async fn leads_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<LeadParams>,
) -> Result<Response, PageError> {
    let page = state
        .app
        .list_outreach_leads(&a.grant, &lead_query(&p)?)
        .await?;
    // Places by name; a reader without the register (an auditor) sees the codes.
    let names: HashMap<String, String> =
        match a.actor().grant::<jiuzhu_domain::access::ReadRegistry>() {
            Ok(g) => state
                .app
                .list_divisions(&g)
                .await?
                .into_iter()
                .map(|d| (d.code.to_string(), d.name))
                .collect(),
            Err(_) => HashMap::new(),
        };
    Ok(render(&LeadsPage {
        nav: Nav::new(&a.auth, "政策找人"),
        status: p.status.clone().unwrap_or_default(),
        total: page.total,
        may_apply: a.actor().may(Action::RegisterApplication),
        can_handle: a.actor().may(Action::HandleWarnings),
        leads: page
            .items
            .iter()
            .map(|l| LeadRow {
                id: l.id,
                month: l.month.clone(),
                division: names
                    .get(&l.division)
                    .cloned()
                    .unwrap_or_else(|| l.division.clone()),
                person: l.person.clone(),
                name: l.person_name.clone().unwrap_or_default(),
                person_id: l.person_id,
                settlement_date: l.settlement_date.to_string(),
                out_of_pocket: l.out_of_pocket.to_string(),
                threshold: l.threshold.to_string(),
                row: l.row,
                delivery_id: l.delivery_id,
                handled: l.status == "handled",
                note: l.note.clone().unwrap_or_default(),
                handled_by: l.handled_by.clone().unwrap_or_default(),
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
struct HandleForm {
    note: String,
}

async fn handle_lead_form(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Path(id): Path<i64>,
    Form(f): Form<HandleForm>,
) -> Result<Response, PageError> {
    state
        .app
        .handle_outreach_lead(&a.grant, id, &f.note)
        .await?;
    Ok(see_other("/verification/leads"))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_start_run, api_job, api_list_runs, api_leads, api_handle_lead),
    components(schemas(LeadList, LeadRecord, JobStarted, RunList, RunSummary))
)]
pub struct FeedPagesApiDoc;
