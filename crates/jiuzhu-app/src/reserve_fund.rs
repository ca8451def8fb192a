//! The township's reserve fund for temporary assistance (临时救助备用金): its standing against the
//! policy's minimum, recording a top-up, withdrawal or return, and the assist-first payment
//! (先行救助) of a case — for the reserve-fund pages, their API and the case page.

use chrono::NaiveDate;
use jiuzhu_domain::access::{ManageReserveFund, ReadCases, ReadRegistry};
use jiuzhu_domain::{DivisionCode, FieldError, Grant, IdNumber, Level, Money};
use jiuzhu_store::{CaseId, NewReserveEntry, ReserveEntry, ReserveEntryKind, ReserveFund};
use serde::Deserialize;

use crate::{App, Error, Result};

/// What the page says of a fund below its minimum.
pub const LOW_BALANCE_WARNING: &str = "备用金余额低于最低限额,请及时补充";
const MINIMUM_PARAM: &str = "temporary.reserve_fund.minimum";

/// The minimum balance in force for a township today (`None` when no policy sets one).
pub async fn minimum(app: &App, township: &DivisionCode) -> Result<Option<Money>> {
    let lib = app.params().await?.policies.clone();
    let today = app.today();
    Ok(lib
        .for_region(township)
        .ok()
        .and_then(|set| set.at(today).money(MINIMUM_PARAM).ok().map(|p| p.value)))
}

pub fn below(balance: Money, min: Option<Money>) -> bool {
    min.is_some_and(|m| balance < m)
}

/// A township's code, or not found (the fund of anything else does not exist).
pub fn parse_township(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s)
        .ok()
        .filter(|c| c.level() == Level::Township)
        .ok_or(Error::NotFound)
}

/// The form or JSON of a new entry.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EntryInput {
    /// top_up | withdrawal | return
    pub kind: String,
    /// Yuan, at most two decimals ("1200.00").
    pub amount: String,
    /// A 临时救助 case of the same township, for a withdrawal paying assist-first assistance.
    pub case_id: Option<String>,
    pub payee_name: Option<String>,
    /// The payee's identity number; only its masked form is kept.
    pub payee_id_number: Option<String>,
    pub reason: String,
    pub voucher: Option<String>,
    /// The booking date (YYYY-MM-DD); today when empty.
    pub on: Option<String>,
}

pub fn to_new(
    input: &EntryInput,
    township: DivisionCode,
    today: NaiveDate,
) -> Result<NewReserveEntry> {
    let mut errors = Vec::new();
    let kind = ReserveEntryKind::parse(input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "RESERVE_KIND",
            "收支类型无效(补充、支取或退回)",
        ));
    }
    let amount = match Money::parse(input.amount.trim()) {
        Ok(m) if m.fen() > 0 => Some(m),
        Ok(_) => {
            errors.push(FieldError::new(
                "amount",
                "RESERVE_AMOUNT",
                "金额必须大于零",
            ));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("amount", e.code(), e.message_zh()));
            None
        }
    };
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let case_id = match text(&input.case_id) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("case_id", "RESERVE_CASE", "案件编号无效"));
                None
            }
        },
    };
    let payee_id_masked = match text(&input.payee_id_number) {
        None => None,
        Some(s) => match IdNumber::parse(&s) {
            Ok(n) => Some(n.masked()),
            Err(_) => {
                errors.push(FieldError::new(
                    "payee_id_number",
                    "RESERVE_PAYEE_ID",
                    "领款人身份证号码无效",
                ));
                None
            }
        },
    };
    let on = match text(&input.on) {
        None => today,
        Some(s) => match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                errors.push(FieldError::new(
                    "on",
                    "RESERVE_DATE",
                    "日期格式应为 YYYY-MM-DD",
                ));
                today
            }
        },
    };
    if input.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "RESERVE_REASON", "请填写事由"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    Ok(NewReserveEntry {
        township,
        kind: kind.expect("checked"),
        amount: amount.expect("checked"),
        case_id,
        assist_first_workflows: vec![],
        payee_name: text(&input.payee_name),
        payee_id_masked,
        reason: input.reason.trim().to_string(),
        voucher: text(&input.voucher),
        on,
    })
}

/// Records an entry of a township's ledger; a withdrawal over the balance is refused
/// (`RESERVE_INSUFFICIENT`).
pub async fn record(
    app: &App,
    grant: &Grant<ManageReserveFund>,
    township: &str,
    input: &EntryInput,
) -> Result<ReserveEntry> {
    let township = parse_township(township)?;
    let mut new = to_new(input, township, app.today())?;
    new.assist_first_workflows = assist_first_workflows(app);
    Ok(app.store.record_reserve_entry(grant, &new).await?)
}

/// The workflows whose cases the reserve fund pays first (先行救助), as the workflow files say.
fn assist_first_workflows(app: &App) -> Vec<String> {
    app.workflows()
        .iter()
        .filter(|w| w.assist_first)
        .map(|w| w.id.clone())
        .collect()
}

/// An assist-first payment as the case page's form gives it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssistPayment {
    pub amount: String,
    pub voucher: String,
    pub payee_name: String,
    pub reason: String,
}

/// Pays assist-first assistance (先行救助) for a case from its township's fund: the payee is the
/// applicant (with the masked identity number) unless another name is given.
pub async fn assist_payment(
    app: &App,
    grant: &Grant<ManageReserveFund>,
    id: CaseId,
    f: &AssistPayment,
) -> Result<ReserveEntry> {
    let read = grant.actor().grant::<ReadCases>()?;
    let c = app
        .store
        .get_case(&read, id)
        .await?
        .ok_or(Error::NotFound)?;
    let township = DivisionCode::parse(&c.division_filed)
        .ok()
        .and_then(|d| d.township())
        .ok_or(Error::NotFound)?;
    let amount = match Money::parse(f.amount.trim()) {
        Ok(m) if m.fen() > 0 => m,
        Ok(_) => {
            return Err(Error::invalid(vec![FieldError::new(
                "amount",
                "RESERVE_AMOUNT",
                "支付金额必须大于零",
            )]))
        }
        Err(e) => {
            return Err(Error::invalid(vec![FieldError::new(
                "amount",
                e.code(),
                format!("支付金额:{}", e.message_zh()),
            )]))
        }
    };
    let reg = grant.actor().grant::<ReadRegistry>()?;
    let applicant_id = app
        .store
        .household_as_of(&reg, c.household_id, app.today())
        .await?
        .and_then(|s| {
            s.members
                .into_iter()
                .find(|m| m.person.id == c.applicant_id)
                .map(|m| m.person.id_number.masked())
        });
    let payee = f.payee_name.trim();
    let (payee_name, payee_id_masked) = if payee.is_empty() || payee == c.applicant_name {
        (c.applicant_name.clone(), applicant_id)
    } else {
        (payee.to_string(), None)
    };
    let reason = if f.reason.trim().is_empty() {
        format!("先行救助:案件 {}", c.number)
    } else {
        f.reason.trim().to_string()
    };
    let entry = app
        .store
        .record_reserve_entry(
            grant,
            &NewReserveEntry {
                township,
                kind: ReserveEntryKind::Withdrawal,
                amount,
                case_id: Some(c.id),
                assist_first_workflows: assist_first_workflows(app),
                payee_name: Some(payee_name),
                payee_id_masked,
                reason,
                voucher: Some(f.voucher.trim().to_string()).filter(|v| !v.is_empty()),
                on: app.today(),
            },
        )
        .await?;
    Ok(entry)
}

impl App {
    /// Every township in scope with its balance (0 when it has no ledger yet).
    pub async fn reserve_funds(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
    ) -> Result<Vec<ReserveFund>> {
        Ok(self.store.reserve_funds(g).await?)
    }

    /// A township's ledger, newest first; `NotFound` outside the scope.
    pub async fn reserve_fund_entries(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        township: &DivisionCode,
        limit: i64,
    ) -> Result<Vec<ReserveEntry>> {
        Ok(self.store.reserve_fund_entries(g, township, limit).await?)
    }
}
