//! Background caseload imports with progress, polled by the import page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use jiuzhu_app::records::ImportSummary;
use jiuzhu_app::registry::Input;
use jiuzhu_app::registry::{import_caseload, CaseloadFiles};
use jiuzhu_domain::access::ImportCaseload;
use jiuzhu_domain::{FieldError, Grant, UserId};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Reading and checking the files.
    Parsing,
    /// Writing to the database.
    Writing,
    Done,
    /// Rejected (nothing written) or failed.
    Failed,
}

/// What the progress endpoint returns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobStatus {
    pub id: u64,
    pub phase: JobPhase,
    pub done: u64,
    pub total: u64,
    pub percent: u64,
    pub message: String,
    pub households: u64,
    pub persons: u64,
    pub memberships: u64,
    pub divisions_created: u64,
    /// Every rejected row (row, column, Chinese reason); nothing was written when there are any.
    pub errors: Vec<JobError>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobError {
    pub row: Option<usize>,
    pub field: String,
    pub code: String,
    pub message: String,
}

impl From<FieldError> for JobError {
    fn from(e: FieldError) -> Self {
        JobError {
            row: e.row,
            field: e.field,
            code: e.code,
            message: e.message,
        }
    }
}

struct Job {
    owner: UserId,
    status: JobStatus,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

#[derive(Clone, Default)]
pub struct Jobs {
    inner: Arc<Mutex<HashMap<u64, Job>>>,
    next: Arc<AtomicU64>,
}

fn percent(done: u64, total: u64) -> u64 {
    (done * 100).checked_div(total).unwrap_or(0).min(100)
}

impl Jobs {
    /// The job's status, for its owner only.
    pub fn status(&self, id: u64, user: UserId) -> Option<JobStatus> {
        let jobs = self.inner.lock().expect("jobs lock");
        let job = jobs.get(&id).filter(|j| j.owner == user)?;
        let mut s = job.status.clone();
        if s.phase == JobPhase::Writing {
            s.done = job.done.load(Ordering::Relaxed);
            s.total = job.total.load(Ordering::Relaxed);
            s.percent = percent(s.done, s.total);
            s.message = format!("正在写入 {}/{}", s.done, s.total);
        }
        Some(s)
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut JobStatus)) {
        if let Some(job) = self.inner.lock().expect("jobs lock").get_mut(&id) {
            f(&mut job.status);
        }
    }

    /// Starts an import in the background and returns its id.
    pub fn start(
        &self,
        app: jiuzhu_app::App,
        grant: Grant<ImportCaseload>,
        households: Input,
        members: Input,
        valid_from: NaiveDate,
        create_missing_divisions: bool,
    ) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let owner = grant.actor().user_id.unwrap_or_default();
        let source = format!("{} + {}", households.name, members.name);
        self.inner.lock().expect("jobs lock").insert(
            id,
            Job {
                owner,
                status: JobStatus {
                    id,
                    phase: JobPhase::Parsing,
                    done: 0,
                    total: 0,
                    percent: 0,
                    message: "正在读取和校验文件…".into(),
                    households: 0,
                    persons: 0,
                    memberships: 0,
                    divisions_created: 0,
                    errors: Vec::new(),
                    source,
                },
                done: done.clone(),
                total: total.clone(),
            },
        );
        let jobs = self.clone();
        tokio::spawn(async move {
            let files = CaseloadFiles {
                households,
                members,
                valid_from,
                create_missing_divisions,
                limits: jiuzhu_app::registry::CASELOAD_UPLOAD,
            };
            let parsed = |batch: &jiuzhu_domain::caseload::CaseloadBatch| {
                let rows = (batch.households.len() + batch.members.len()) as u64;
                total.store(rows, Ordering::Relaxed);
                jobs.update(id, |s| {
                    s.phase = JobPhase::Writing;
                    s.total = rows;
                });
            };
            let progress = |d: u64, t: u64| {
                done.store(d, Ordering::Relaxed);
                total.store(t, Ordering::Relaxed);
            };
            match import_caseload(&app, &grant, files, parsed, &progress).await {
                Ok(summary) => jobs.succeed(id, summary),
                Err(jiuzhu_app::Error::Invalid(errors)) => jobs.fail(id, errors),
                Err(e) => {
                    let err = crate::error::AppError::from(e);
                    jobs.update(id, |s| {
                        s.phase = JobPhase::Failed;
                        s.message = format!("导入失败,未写入任何数据:{}", err.message);
                    });
                }
            }
        });
        id
    }

    fn fail(&self, id: u64, errors: Vec<FieldError>) {
        self.update(id, |s| {
            s.phase = JobPhase::Failed;
            s.message = format!("导入被拒绝,未写入任何数据。共 {} 处错误:", errors.len());
            s.errors = errors.into_iter().map(JobError::from).collect();
        });
    }

    fn succeed(&self, id: u64, summary: ImportSummary) {
        self.update(id, |s| {
            s.phase = JobPhase::Done;
            s.done = s.total;
            s.percent = 100;
            s.message = format!(
                "导入完成:{} 户、{} 人、{} 条成员关系,新建区划 {} 个",
                summary.households, summary.persons, summary.memberships, summary.divisions_created
            );
            s.households = summary.households;
            s.persons = summary.persons;
            s.memberships = summary.memberships;
            s.divisions_created = summary.divisions_created;
        });
    }
}
