//! The recovery attack of the security test, repeated for every role that may not reveal:
//! gather everything the role is shown of a person on every page and API answer, work out how
//! many identity numbers are still consistent with it, and try to confirm guesses through the
//! only oracles (a search by full number, a registration refused as a duplicate). It fails if
//! the full number is shown anywhere, if what is shown leaves fewer than 100,000 candidates, or
//! if the oracles answer more than their hourly budgets.
//!
//! Before the fix, the mask kept the first four and last four characters and the birth date
//! was shown beside it: about a hundred candidates, and the search confirmed each guess.

mod common;

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use common::*;
use jiuzhu_domain::access::{allows, Action};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{IdNumber, Person};
use jiuzhu_web::id_lookup::{DUPLICATES_PER_HOUR, LOOKUPS_PER_HOUR};
use serde_json::json;

/// Everything a role sees around one person: pages and API answers, the person's own, the
/// lists that name them and a case of theirs (a referral, which a department officer reads).
async fn everything_shown(
    app: &TestApp,
    s: &Session,
    p: &Person,
    household: i64,
    case: i64,
) -> Vec<String> {
    let name = urlencode(&p.facts.name);
    let paths = [
        format!("/cases/{case}"),
        format!("/api/v1/cases/{case}"),
        format!("/persons/{}", p.id),
        format!("/persons/{}/edit", p.id),
        format!("/api/v1/persons/{}", p.id),
        format!("/api/v1/persons/{}/history", p.id),
        format!("/households/{household}"),
        format!("/api/v1/households/{household}"),
        format!("/api/v1/households/{household}/history"),
        format!("/search?q={name}"),
        format!("/api/v1/persons?q={name}"),
        format!("/api/v1/households?q={name}"),
        format!("/calc?household={household}"),
        format!("/economics/{household}"),
        format!("/api/v1/households/{household}/economics"),
        "/cases".to_string(),
        "/api/v1/cases".to_string(),
        "/tasks".to_string(),
        "/notices".to_string(),
        "/filing".to_string(),
        "/warnings".to_string(),
        "/api/v1/warnings".to_string(),
        "/verification/leads".to_string(),
        "/feeds".to_string(),
        "/api/v1/feeds".to_string(),
        "/audit".to_string(),
        "/api/v1/audit".to_string(),
        "/month".to_string(),
    ];
    let mut texts = Vec::new();
    for path in paths {
        let r = app.get(&path, Some(s)).await;
        if r.status == StatusCode::OK {
            texts.push(r.text());
        }
    }
    texts
}

/// The person's medical referral (转介 to medical insurance), registered once at the window of
/// the household's township.
async fn referral_of(app: &TestApp, p: &Person, household: i64) -> i64 {
    let township = &p.facts.residence_division.as_str()[..9];
    let clerk = app
        .login_as(&app.user(jiuzhu_domain::Role::WindowClerk, township))
        .await;
    let listed = app
        .get("/api/v1/cases?workflow=referral_medical", Some(&clerk))
        .await
        .json();
    if let Some(c) = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["applicant_name"] == p.facts.name.as_str())
    {
        return c["id"].as_i64().unwrap();
    }
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "referral_medical", "household_id": household,
                "applicant_id": p.id, "documents": ["id_card"]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_i64().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the texts tell about the number: which of its 17 leading characters are shown
/// (in any masked form aligned with it), and whether the birth date is shown in any format.
struct Knowledge {
    known: [bool; 17],
    birth_date_shown: bool,
}

fn knowledge(texts: &[String], id: &str, birth: NaiveDate) -> Knowledge {
    let idb = id.as_bytes();
    let mut known = [false; 17];
    let date_forms = [
        birth.format("%Y-%m-%d").to_string(),
        birth.format("%Y%m%d").to_string(),
        format!("{}年{}月{}日", birth.year(), birth.month(), birth.day()),
        birth.format("%Y/%m/%d").to_string(),
    ];
    let mut birth_date_shown = false;
    for t in texts {
        if date_forms.iter().any(|f| t.contains(f.as_str())) {
            birth_date_shown = true;
        }
        let b = t.as_bytes();
        // Every 18-character run of digits, X and * whose shown characters all agree with the
        // number is a masked form of it.
        if b.len() < 18 {
            continue;
        }
        for start in 0..=b.len() - 18 {
            let w = &b[start..start + 18];
            if !w
                .iter()
                .all(|c| c.is_ascii_digit() || *c == b'*' || *c == b'X')
            {
                continue;
            }
            let shown: Vec<usize> = (0..18).filter(|&i| w[i] != b'*').collect();
            if shown.len() >= 4 && shown.iter().all(|&i| w[i] == idb[i]) {
                for &i in shown.iter().filter(|&&i| i < 17) {
                    known[i] = true;
                }
            }
        }
    }
    if birth_date_shown {
        for k in known.iter_mut().take(14).skip(6) {
            *k = true;
        }
    }
    Knowledge {
        known,
        birth_date_shown,
    }
}

/// Numbers consistent with what is known, the sex and the birth year (always shown): the
/// check character follows from the other 17.
fn candidates(k: &Knowledge, id: &str) -> u64 {
    let idb = id.as_bytes();
    let mut n: u64 = 1;
    for i in 0..6 {
        if !k.known[i] {
            n *= 10;
        }
    }
    // Dates of the birth year agreeing with the known date digits.
    let year: i32 = id[6..10].parse().unwrap();
    let mut dates = 0;
    let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    while d.year() == year {
        let digits = d.format("%Y%m%d").to_string();
        if (6..14).all(|i| !k.known[i] || digits.as_bytes()[i - 6] == idb[i]) {
            dates += 1;
        }
        d = d.succ_opt().unwrap();
    }
    n *= dates;
    for i in 14..16 {
        if !k.known[i] {
            n *= 10;
        }
    }
    // The 17th digit's parity is the sex, which is shown.
    if !k.known[16] {
        n *= 5;
    }
    n
}

/// A valid number that is not the target's: the same region and year, another day.
fn wrong_guess(id: &str, n: u32) -> String {
    let body = format!(
        "{}{}{:02}{:02}{:03}",
        &id[..6],
        &id[6..10],
        1 + n % 12,
        1 + n % 28,
        100 + n
    );
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!("{body}{}", check_char(&b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_without_reveal_recovers_an_identity_number() {
    let app = TestApp::new().await;
    let roles: Vec<_> = app
        .demo
        .users
        .iter()
        .filter(|u| !allows(u.role, Action::RevealSensitive))
        // A department's system signs in at the token endpoint only and reads no person at all.
        .filter(|u| u.role != jiuzhu_domain::Role::DepartmentSystem)
        // Department officers see a person through their own department's referral; the one
        // checked is a medical referral (the other departments' officers see no one at all).
        .filter(|u| {
            u.role != jiuzhu_domain::Role::DepartmentOfficer
                || u.department == Some(jiuzhu_domain::Department::MedicalInsurance)
        })
        .cloned()
        .collect();
    assert!(roles.len() >= 2, "the demo has roles that may not reveal");
    for user in roles {
        let s = app.login_as(&user).await;
        // A person in the user's jurisdiction (or the county's first township for users bound
        // higher up).
        let under = if user.division.as_str().len() >= 9 {
            user.division.as_str().to_string()
        } else {
            TOWNSHIP_A.to_string()
        };
        let target = app.head_in(&under).await;
        let household = app.household_of(&target).await;
        let id = target.id_number.to_string();
        let case = referral_of(&app, &target, household).await;

        let texts = everything_shown(&app, &s, &target, household, case).await;
        if user.role.is_admin() {
            // The administrators of 三员分立 hold no business data: none of what they are shown
            // (the audit administrator: the audit log) carries the number, and they cannot even
            // search.
            for t in &texts {
                assert!(!t.contains(&id), "{:?} is shown the full number", user.role);
            }
            let r = app.get(&format!("/api/v1/persons?q={id}"), Some(&s)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", user.role);
            continue;
        }
        // Each role with business data is shown the person somewhere (a department officer:
        // in the referral), so what it sees is checked, not an empty page.
        assert!(
            texts.iter().any(|t| t.contains(&target.facts.name)),
            "{:?} is shown nothing of the person to check",
            user.role
        );
        for t in &texts {
            assert!(!t.contains(&id), "{:?} is shown the full number", user.role);
        }
        let k = knowledge(&texts, &id, target.facts.birth_date);
        assert!(
            !k.birth_date_shown,
            "{:?} is shown the birth date",
            user.role
        );
        let left = candidates(&k, &id);
        assert!(
            left >= 100_000,
            "{:?}: only {left} numbers are consistent with what is shown",
            user.role
        );

        // The search oracle: a budget of lookups by number an hour, then 429, each audited.
        let mut answered = 0;
        for n in 0..=LOOKUPS_PER_HOUR as u32 {
            let r = app
                .get(
                    &format!("/api/v1/persons?q={}", wrong_guess(&id, n)),
                    Some(&s),
                )
                .await;
            match r.status {
                StatusCode::OK => answered += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    assert_eq!(r.error_code(), "ID_LOOKUP_LIMIT");
                    break;
                }
                // No register at all (a department officer): no oracle either.
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => break,
                other => panic!("{other}: {}", r.text()),
            }
        }
        assert!(
            answered <= LOOKUPS_PER_HOUR,
            "{:?}: {answered} lookups",
            user.role
        );
        if answered > 0 {
            let r = app.get(&format!("/api/v1/persons?q={id}"), Some(&s)).await;
            assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", user.role);
        }
        // A prefix is no number search for these roles: the start of the target's number finds
        // nobody.
        let r = app
            .get(&format!("/api/v1/persons?q={}", &id[..14]), Some(&s))
            .await;
        if r.status == StatusCode::OK {
            assert_eq!(r.json()["total"], 0, "{:?} searched by a prefix", user.role);
            // … and the search page says why, instead of only finding nobody.
            let page = app.get(&format!("/search?q={}", &id[..14]), Some(&s)).await;
            assert!(
                page.text().contains(
                    "按身份证号码查询须输入完整的 18 位号码;您的岗位不能按号码的前几位查询"
                ),
                "{:?}: {}",
                user.role,
                page.text()
            );
        }
    }

    // The lookups are in the audit log, masked.
    let auditor = app
        .login_as(&app.user(jiuzhu_domain::Role::Auditor, "371002"))
        .await;
    let log = app
        .get(
            "/api/v1/audit?action=person_looked_up_by_id&limit=200",
            Some(&auditor),
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text());
    let v = log.json();
    assert!(
        v["total"].as_i64().unwrap() >= LOOKUPS_PER_HOUR as i64,
        "{v}"
    );
    assert!(!log.text().contains("0011\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_registrations_are_audited_and_limited() {
    let app = TestApp::new().await;
    let assistant = app
        .demo
        .users
        .iter()
        .find(|u| allows(u.role, Action::WriteRegistry) && !allows(u.role, Action::RevealSensitive))
        .cloned()
        .expect("a role that registers but may not reveal");
    let s = app.login_as(&assistant).await;
    // A person registered elsewhere in the county.
    let other = app.head_of(TOWNSHIP_B).await;
    let body = |id: &str| {
        json!({
            "id_number": id, "name": "试探", "residence_division": assistant.division.as_str(),
        })
    };
    for _ in 0..DUPLICATES_PER_HOUR {
        let r = app
            .call(
                axum::http::Method::POST,
                "/api/v1/persons",
                Some(&s),
                Some(body(other.id_number.as_str())),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(!r.text().contains(other.id_number.as_str()));
    }
    // The budget is spent: even a fresh number is refused before it is looked at.
    let fresh: IdNumber = app.unused.members[0].id_number.clone();
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/v1/persons",
            Some(&s),
            Some(body(fresh.as_str())),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.error_code(), "ID_LOOKUP_LIMIT");
}
