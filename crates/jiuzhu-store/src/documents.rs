//! Types of the document methods (一人一档, docs/documents.md) and of the township reserve fund
//! ledger (备用金, R-LS-4, docs/cases.md).
//!
//! The store keeps what a document is (owner, type, file name, size, SHA-256, who, when) and
//! where its bytes are (`storage_key`); the bytes themselves are kept by the web layer's
//! content-addressed file directory, since a database is a poor place for scans.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{DivisionCode, Money};
use serde::{Deserialize, Serialize};

pub type DocumentId = i64;

/// Whose file a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    Person,
    Household,
    Case,
}

impl OwnerKind {
    pub const ALL: &'static [OwnerKind] =
        &[OwnerKind::Person, OwnerKind::Household, OwnerKind::Case];
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Person => "person",
            OwnerKind::Household => "household",
            OwnerKind::Case => "case",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            OwnerKind::Person => "人员",
            OwnerKind::Household => "家庭",
            OwnerKind::Case => "案件",
        }
    }
    pub fn parse(s: &str) -> Option<OwnerKind> {
        OwnerKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// A document type of the fixed list: code, Chinese label, and whether viewing it needs
/// `RevealSensitive` (identity, health and disability, as for person fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentType {
    pub code: &'static str,
    pub label_zh: &'static str,
    pub sensitive: bool,
}

/// The document types, in the order forms list them.
pub const DOCUMENT_TYPES: &[DocumentType] = &[
    DocumentType {
        code: "id_card",
        label_zh: "身份证",
        sensitive: true,
    },
    DocumentType {
        code: "authorisation",
        label_zh: "核对授权书",
        sensitive: false,
    },
    DocumentType {
        code: "home_visit",
        label_zh: "入户调查记录",
        sensitive: false,
    },
    DocumentType {
        code: "appraisal",
        label_zh: "民主评议记录",
        sensitive: false,
    },
    DocumentType {
        code: "income_proof",
        label_zh: "收入证明",
        sensitive: false,
    },
    DocumentType {
        code: "disability_cert",
        label_zh: "残疾证",
        sensitive: true,
    },
    DocumentType {
        code: "medical",
        label_zh: "病历/诊断证明",
        sensitive: true,
    },
    DocumentType {
        code: "photo",
        label_zh: "照片",
        sensitive: false,
    },
    DocumentType {
        code: "other",
        label_zh: "其他",
        sensitive: false,
    },
];

pub fn document_type(code: &str) -> Option<&'static DocumentType> {
    DOCUMENT_TYPES
        .iter()
        .find(|t| t.code == code || t.label_zh == code)
}

/// A document to record; its file is already stored under `storage_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDocument {
    pub owner_kind: OwnerKind,
    pub owner_id: i64,
    /// A code of [`DOCUMENT_TYPES`].
    pub doc_type: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Lower-case hex.
    pub sha256: String,
    pub storage_key: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub by_id: Option<i64>,
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocumentId,
    pub owner_kind: OwnerKind,
    pub owner_id: i64,
    pub division: DivisionCode,
    pub doc_type: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by_id: Option<i64>,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    pub note: String,
    pub withdrawn: Option<Withdrawal>,
}

impl Document {
    pub fn is_sensitive(&self) -> bool {
        document_type(&self.doc_type).is_none_or(|t| t.sensitive)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentQuery {
    /// Both or neither.
    pub owner: Option<(OwnerKind, i64)>,
    pub include_withdrawn: bool,
    pub limit: i64,
    pub offset: i64,
}

// ---- reserve fund ------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReserveEntryKind {
    /// Money put into the fund (by the county, or the township's budget).
    TopUp,
    /// Money paid out, usually urgent temporary assistance (先行救助) for a case.
    Withdrawal,
    /// Money coming back (an unused advance, a correction).
    Return,
}

impl ReserveEntryKind {
    pub const ALL: &'static [ReserveEntryKind] = &[
        ReserveEntryKind::TopUp,
        ReserveEntryKind::Withdrawal,
        ReserveEntryKind::Return,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReserveEntryKind::TopUp => "top_up",
            ReserveEntryKind::Withdrawal => "withdrawal",
            ReserveEntryKind::Return => "return",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ReserveEntryKind::TopUp => "补充",
            ReserveEntryKind::Withdrawal => "支取",
            ReserveEntryKind::Return => "退回",
        }
    }
    pub fn parse(s: &str) -> Option<ReserveEntryKind> {
        ReserveEntryKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s || k.label_zh() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReserveEntry {
    /// A township (乡镇/街道) code.
    pub township: DivisionCode,
    pub kind: ReserveEntryKind,
    /// Positive.
    pub amount: Money,
    /// A withdrawal paying assistance first (先行救助) names its case: a case of the same
    /// township, of one of `assist_first_workflows`.
    pub case_id: Option<i64>,
    /// The workflows whose cases the fund pays first (the workflow files' `assist_first`).
    pub assist_first_workflows: Vec<String>,
    pub payee_name: Option<String>,
    /// Already masked by the caller (the ledger never holds a full identity number).
    pub payee_id_masked: Option<String>,
    pub reason: String,
    pub voucher: Option<String>,
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveEntry {
    pub id: i64,
    pub township: DivisionCode,
    pub seq: i64,
    pub kind: ReserveEntryKind,
    pub amount: Money,
    pub balance_after: Money,
    pub case_id: Option<i64>,
    pub payee_name: Option<String>,
    pub payee_id_masked: Option<String>,
    pub reason: String,
    pub voucher: Option<String>,
    pub recorded_by_id: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub on: NaiveDate,
}

/// A township's fund as the overview shows it. Townships without entries have balance 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveFund {
    pub township: DivisionCode,
    pub name: String,
    pub balance: Money,
    pub entries: i64,
    pub last_entry_at: Option<DateTime<Utc>>,
}
