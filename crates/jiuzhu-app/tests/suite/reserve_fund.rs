//! The township's reserve fund through the application: entries are checked in full, a
//! withdrawal over the balance is refused, and an assist-first payment names the applicant.

use jiuzhu_app::reserve_fund::{self, AssistPayment, EntryInput};
use jiuzhu_app::Error;
use jiuzhu_domain::access::{ManageReserveFund, ReadCases, RegisterApplication};
use jiuzhu_domain::{Actor, DivisionCode, Money, Role, Scope};
use jiuzhu_store::{CaseId, NewCase, ReserveEntryKind};

use super::Db;

fn reviewer() -> Actor {
    Actor {
        user_id: Some(21),
        username: "reviewer".into(),
        role: Role::TownshipReviewer,
        department: None,
        scope: Scope::new(DivisionCode::parse("371002001").unwrap()),
        origin: "127.0.0.1".into(),
        pending_approval: false,
    }
}

/// A 临时救助 application of the household of `case`, by its applicant.
async fn temporary_case_beside(app: &jiuzhu_app::App, case: CaseId) -> CaseId {
    let read = reviewer().grant::<ReadCases>().unwrap();
    let c = app.store().get_case(&read, case).await.unwrap().unwrap();
    let clerk = Actor {
        role: Role::WindowClerk,
        ..reviewer()
    };
    let new = NewCase {
        workflow: "temporary".into(),
        program: "临时救助".into(),
        department: None,
        one_place_per_person: false,
        household_id: c.household_id,
        applicant_id: c.applicant_id,
        flags: Default::default(),
        state: serde_json::json!({"revision": 1}),
        revision: 1,
        open_steps: vec![],
        events: vec![],
    };
    app.store()
        .register_case(&clerk.grant::<RegisterApplication>().unwrap(), &new)
        .await
        .unwrap()
        .id
}

fn entry(kind: &str, amount: &str) -> EntryInput {
    EntryInput {
        kind: kind.into(),
        amount: amount.into(),
        reason: "年初拨付".into(),
        ..EntryInput::default()
    }
}

pub async fn the_reserve_fund_pays_no_more_than_it_holds(db: Db) {
    let app = db.open().await;
    let (_, dibao) = super::changes::approved_case(&app, 1).await;
    let case = temporary_case_beside(&app, dibao).await;
    let g = reviewer().grant::<ManageReserveFund>().unwrap();
    let bad = EntryInput {
        kind: "gift".into(),
        amount: "-1".into(),
        reason: " ".into(),
        payee_id_number: Some("123".into()),
        ..EntryInput::default()
    };
    let Err(Error::Invalid(fields)) = reserve_fund::record(&app, &g, "371002001", &bad).await
    else {
        panic!("a bad entry was recorded");
    };
    let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["kind", "amount", "payee_id_number", "reason"]);
    // Only a township has a fund.
    let county = reserve_fund::record(&app, &g, "371002", &entry("top_up", "100.00")).await;
    assert!(matches!(county, Err(Error::NotFound)), "{county:?}");

    let top = reserve_fund::record(&app, &g, "371002001", &entry("top_up", "1000.00"))
        .await
        .unwrap();
    assert_eq!(top.balance_after, Money::from_fen(100_000));
    let over = reserve_fund::record(&app, &g, "371002001", &entry("withdrawal", "1000.01")).await;
    let Err(Error::Invalid(fields)) = over else {
        panic!("{over:?}");
    };
    assert_eq!(fields[0].code, "RESERVE_INSUFFICIENT");

    let paid = reserve_fund::assist_payment(
        &app,
        &g,
        case,
        &AssistPayment {
            amount: "300.00".into(),
            voucher: "PZ-001".into(),
            ..AssistPayment::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(paid.kind, ReserveEntryKind::Withdrawal);
    assert_eq!(paid.case_id, Some(case));
    assert_eq!(paid.balance_after, Money::from_fen(70_000));
    assert_eq!(paid.payee_name.as_deref(), Some("王某"));
    assert_eq!(paid.payee_id_masked.as_deref(), Some("371002************"));
    assert!(
        paid.reason.starts_with("先行救助:案件 371002-"),
        "{}",
        paid.reason
    );
}
