//! Conformance case of the account lifecycle (三员分立, migration 0017): what a system
//! administrator creates, resets or reactivates waits for a security administrator, who cannot
//! approve itself or what it asked for, and no account changes into an administrator role.

use jiuzhu_domain::access::{AssignRoles, ManageUsers, ReadAudit, RevealSensitive};
use jiuzhu_domain::{Approval, AuditAction, Role, User};

use super::{all_events, new_user, staff, system, with_tree, Harness, TOWN_A};
use crate::prelude::*;
use crate::{AccessPatch, StoreError, UserPatch};

fn refusal(e: &StoreError) -> &'static str {
    match e {
        StoreError::Refused { code, .. } => code,
        other => panic!("expected Refused, got {other:?}"),
    }
}

async fn stored(h: &Harness, u: &User) -> User {
    h.store.user_by_id(u.id).await.unwrap().unwrap()
}

pub async fn accounts_wait_for_a_security_administrator(h: Harness) {
    with_tree(&h).await;
    let root = system().grant::<ManageUsers>().unwrap();
    let sys = h
        .store
        .create_user(&root, &new_user("sys", Role::SystemAdmin, "371002"))
        .await
        .unwrap();
    let s1 = h
        .store
        .create_user(&root, &new_user("sec1", Role::SecurityAdmin, "371002"))
        .await
        .unwrap();
    let auditor = h
        .store
        .create_user(&root, &new_user("aud", Role::AuditAdmin, "371002"))
        .await
        .unwrap();
    let sys_a = sys.actor("10.0.0.1");
    let manage = sys_a.grant::<ManageUsers>().unwrap();
    let approve1 = s1.actor("10.0.0.2").grant::<AssignRoles>().unwrap();

    // The system administrator creates a clerk and a second security administrator: both wait,
    // and neither holds any permission, not even the one its role is for.
    let clerk = h
        .store
        .create_user(&manage, &new_user("clerk", Role::WindowClerk, TOWN_A))
        .await
        .unwrap();
    let s2 = h
        .store
        .create_user(&manage, &new_user("sec2", Role::SecurityAdmin, "371002"))
        .await
        .unwrap();
    for u in [&clerk, &s2] {
        assert_eq!(
            (u.approval, u.requested_by),
            (Approval::PendingApproval, Some(sys.id))
        );
    }
    let denied = clerk
        .actor("10.0.0.3")
        .grant::<RevealSensitive>()
        .unwrap_err();
    assert_eq!(denied.code(), "PENDING_APPROVAL");
    assert!(s2.actor("10.0.0.4").grant::<AssignRoles>().is_err());
    assert!(
        sys_a.grant::<AssignRoles>().is_err(),
        "no approving by the creator"
    );

    // Approval: by a security administrator, of the version shown.
    let c2 = h.store.approve_user(&approve1, clerk.id, 1).await.unwrap();
    assert_eq!(
        (c2.approval, c2.approved_by, c2.row_version),
        (Approval::Approved, Some(s1.id), 2)
    );
    assert!(c2.approved_at.is_some());
    assert!(stored(&h, &clerk)
        .await
        .actor("10.0.0.3")
        .grant::<RevealSensitive>()
        .is_ok());
    let last = all_events(&h.store).await.pop().unwrap();
    assert_eq!(last.entry.action, AuditAction::UserApproved);
    assert_eq!(last.entry.actor_name, "sec1");
    assert_eq!(
        last.entry.before.as_ref().unwrap()["approval"],
        "pending_approval"
    );
    assert_eq!(last.entry.after.as_ref().unwrap()["approval"], "approved");
    let err = h
        .store
        .approve_user(&approve1, clerk.id, 2)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "NOT_PENDING");

    // A reset moves the version: an approval of what was shown before it fails.
    h.store
        .reset_password(&manage, clerk.id, "hash-2", true)
        .await
        .unwrap();
    let c3 = stored(&h, &clerk).await;
    assert_eq!(
        (c3.approval, c3.row_version),
        (Approval::PendingApproval, 3)
    );
    assert!(c3.actor("x").grant::<RevealSensitive>().is_err());
    let err = h
        .store
        .approve_user(&approve1, clerk.id, 2)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    h.store.approve_user(&approve1, clerk.id, 3).await.unwrap();

    // The only approved security administrator is not reset over the web (nobody could
    // approve it) nor deactivated; once a second one is approved, it is.
    let err = h
        .store
        .reset_password(&manage, s1.id, "hash", true)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "LAST_ADMINISTRATOR");
    let off = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    let err = h
        .store
        .update_user(&manage, s1.id, 1, &off)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "LAST_ADMINISTRATOR");
    let err = h
        .store
        .update_user(&manage, auditor.id, 1, &off)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "LAST_ADMINISTRATOR");
    h.store.approve_user(&approve1, s2.id, 1).await.unwrap();
    h.store
        .reset_password(&manage, s1.id, "hash", true)
        .await
        .unwrap();
    let s1_now = stored(&h, &s1).await;
    assert_eq!(s1_now.approval, Approval::PendingApproval);
    assert!(s1_now.actor("x").grant::<AssignRoles>().is_err());
    // Even were its grant still at hand, it does not approve itself.
    let err = h
        .store
        .approve_user(&approve1, s1.id, s1_now.row_version)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "OWN_ACCOUNT");
    let approve2 = stored(&h, &s2)
        .await
        .actor("10.0.0.4")
        .grant::<AssignRoles>()
        .unwrap();
    h.store
        .approve_user(&approve2, s1.id, s1_now.row_version)
        .await
        .unwrap();

    // Should one account ever hold both duties, it does not approve what it asked for.
    let both = staff(sys.id, "sys", Role::SecurityAdmin, "371002")
        .grant::<AssignRoles>()
        .unwrap();
    h.store
        .reset_password(&manage, clerk.id, "hash-3", true)
        .await
        .unwrap();
    let c4 = stored(&h, &clerk).await;
    let err = h
        .store
        .approve_user(&both, clerk.id, c4.row_version)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "OWN_REQUEST");

    // No account changes into, out of or between the administrator roles; nobody re-roles
    // itself.
    for (who, to) in [
        (&clerk, Role::SecurityAdmin),
        (&clerk, Role::SystemAdmin),
        (&s1, Role::AuditAdmin),
        (&s1, Role::WindowClerk),
        (&auditor, Role::SystemAdmin),
    ] {
        let v = stored(&h, who).await.row_version;
        let patch = AccessPatch {
            role: Some(to),
            ..AccessPatch::default()
        };
        let err = h
            .store
            .assign_user(&approve2, who.id, v, &patch)
            .await
            .unwrap_err();
        assert_eq!(
            refusal(&err),
            "ADMIN_ROLE_FIXED",
            "{} → {to:?}",
            who.username
        );
    }
    let v = stored(&h, &s2).await.row_version;
    let err = h
        .store
        .assign_user(
            &approve2,
            s2.id,
            v,
            &AccessPatch {
                division: Some(super::code(TOWN_A)),
                ..AccessPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "OWN_ACCOUNT");
    // A business role to another business role is the security administrator's to give.
    let reviewer = h
        .store
        .assign_user(
            &approve2,
            clerk.id,
            c4.row_version,
            &AccessPatch {
                role: Some(Role::TownshipReviewer),
                ..AccessPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(reviewer.role, Role::TownshipReviewer);
    assert_eq!(reviewer.approval, Approval::PendingApproval);
    let last = all_events(&h.store).await.pop().unwrap();
    assert_eq!(last.entry.action, AuditAction::UserAccessChanged);
    assert_eq!(
        last.entry.after.as_ref().unwrap()["role"],
        "township_reviewer"
    );

    // The system administrator: not itself; a reactivated account waits again.
    let v = stored(&h, &sys).await.row_version;
    let err = h
        .store
        .update_user(&manage, sys.id, v, &off)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "OWN_ACCOUNT");
    let err = h
        .store
        .reset_password(&manage, sys.id, "hash", true)
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), "OWN_ACCOUNT");
    let approved = h
        .store
        .approve_user(&approve2, clerk.id, reviewer.row_version)
        .await
        .unwrap();
    let gone = h
        .store
        .update_user(&manage, clerk.id, approved.row_version, &off)
        .await
        .unwrap();
    let back = h
        .store
        .update_user(
            &manage,
            clerk.id,
            gone.row_version,
            &UserPatch {
                active: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (back.active, back.approval, back.requested_by),
        (true, Approval::PendingApproval, Some(sys.id))
    );
    let err = h
        .store
        .approve_user(&approve2, clerk.id, gone.row_version)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");

    // Every step is in the log, read by the audit administrator.
    let log = h
        .store
        .audit_log(
            &auditor.actor("x").grant::<ReadAudit>().unwrap(),
            &crate::AuditQuery {
                action: Some(AuditAction::UserApproved),
                limit: 20,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 5);
}
