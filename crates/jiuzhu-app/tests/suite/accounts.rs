//! Accounts: the use-cases behind the account pages, their API and `jiuzhu user`.

use jiuzhu_app::accounts::{NewAccount, PasswordChange};
use jiuzhu_app::Error;
use jiuzhu_domain::access::{ManageDivisions, ManageUsers, ReadUsers};
use jiuzhu_domain::{Actor, DivisionCode, Role};
use jiuzhu_store::LoginOutcome;

use super::Db;

fn console() -> Actor {
    Actor::system("console")
}

/// An application whose division tree holds 环翠区 (371002).
async fn app_with_huancui(db: &Db) -> jiuzhu_app::App {
    let app = db.open().await;
    let tree = [(DivisionCode::parse("371002").unwrap(), "环翠区".to_string())];
    app.store()
        .import_divisions(&console().grant::<ManageDivisions>().unwrap(), &tree)
        .await
        .unwrap();
    app
}

fn clerk(username: &str) -> NewAccount {
    NewAccount {
        username: username.into(),
        display_name: "王丽".into(),
        role: Role::WindowClerk,
        department: None,
        division: DivisionCode::parse("371002").unwrap(),
    }
}

pub async fn first_admin_is_created_once_and_must_change_password(db: Db) {
    let app = db.open().await;
    let first = app.ensure_first_admins().await.unwrap();
    let made: Vec<(&str, Role)> = first
        .iter()
        .map(|a| (a.username.as_str(), a.role))
        .collect();
    assert_eq!(
        made,
        [
            ("admin", Role::SystemAdmin),
            ("secadmin", Role::SecurityAdmin),
            ("auditadmin", Role::AuditAdmin)
        ]
    );
    assert!(app.ensure_first_admins().await.unwrap().is_empty());
    for a in &first {
        let stored = app
            .store()
            .user_by_username(&a.username)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.division.as_str(), "000000");
        assert_eq!(stored.role, a.role);
        // Nobody could approve them yet: the system's own accounts are approved.
        assert_eq!(stored.approval, jiuzhu_domain::Approval::Approved);
        assert!(stored.must_change_password);
        assert!(jiuzhu_app::accounts::password::verify(
            &a.one_time_password,
            &stored.password_hash
        ));
        assert!(stored.password_hash.starts_with("$argon2id$"));
    }
    let passwords: std::collections::HashSet<&str> =
        first.iter().map(|a| a.one_time_password.as_str()).collect();
    assert_eq!(passwords.len(), 3, "three different one-time passwords");
}

/// Every front door creates accounts by one rule (the command line once took any user name).
pub async fn an_account_is_refused_for_every_broken_rule_at_once(db: Db) {
    let app = app_with_huancui(&db).await;
    let grant = console().grant::<ManageUsers>().unwrap();
    let account = NewAccount {
        username: "王丽 li".into(),
        display_name: " ".into(),
        role: Role::DepartmentOfficer,
        department: None,
        ..clerk("x")
    };
    let Err(Error::Invalid(fields)) = app.create_account(&grant, account).await else {
        panic!("an account breaking three rules was created");
    };
    let named: Vec<(&str, &str)> = fields
        .iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("display_name", "REQUIRED"),
            ("username", "USERNAME"),
            ("department", "REQUIRED")
        ]
    );
    let (user, secret) = app.create_account(&grant, clerk("wangli")).await.unwrap();
    assert!(user.must_change_password);
    assert!(jiuzhu_app::accounts::password_policy::check(&secret, "wangli").is_ok());
}

/// A reset hands over a new one-time password and unlocks the account (drift D3: only the
/// command line unlocked it).
pub async fn a_reset_unlocks_the_account_and_the_old_password_stops_working(db: Db) {
    let app = app_with_huancui(&db).await;
    let grant = console().grant::<ManageUsers>().unwrap();
    let read = console().grant::<ReadUsers>().unwrap();
    let (user, first) = app.create_account(&grant, clerk("wangli")).await.unwrap();
    for _ in 0..6 {
        app.store()
            .record_login(user.id, &LoginOutcome::Failed, "192.0.2.1")
            .await
            .unwrap();
    }
    let locked = app.store().get_user(&read, user.id).await.unwrap().unwrap();
    assert_eq!(locked.failed_logins, 6);
    let (after, second) = app.reset_password(&grant, &read, user.id).await.unwrap();
    assert_eq!(after.failed_logins, 0);
    assert!(after.must_change_password);
    assert_ne!(first, second);
    assert!(app
        .password_matches(second, after.password_hash.clone())
        .await
        .unwrap());
    assert!(!app
        .password_matches(first, after.password_hash)
        .await
        .unwrap());
}

/// A change of one's own password names every reason it is refused.
pub async fn a_password_change_gives_every_reason_at_once(db: Db) {
    let app = app_with_huancui(&db).await;
    let grant = console().grant::<ManageUsers>().unwrap();
    let (user, secret) = app.create_account(&grant, clerk("wangli")).await.unwrap();
    let actor = user.actor("192.0.2.1");
    let change = PasswordChange {
        current: "not-it",
        new: "Password123!",
        confirm: Some("Password123?"),
    };
    let Err(Error::Invalid(fields)) = app
        .change_own_password(&actor, &user, "session", change)
        .await
    else {
        panic!("a bad change was accepted");
    };
    let codes: Vec<&str> = fields.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["WRONG_PASSWORD", "WEAK_PASSWORD", "MISMATCH"]);
    let good = PasswordChange {
        current: &secret,
        new: "Huancui-Clerk-2026",
        confirm: None,
    };
    app.change_own_password(&actor, &user, "session", good)
        .await
        .unwrap();
    let stored = app.store().user_by_id(user.id).await.unwrap().unwrap();
    assert!(!stored.must_change_password);
    assert!(jiuzhu_app::accounts::password::verify(
        "Huancui-Clerk-2026",
        &stored.password_hash
    ));
}
