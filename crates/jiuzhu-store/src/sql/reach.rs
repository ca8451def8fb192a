//! Which cases an actor reads (docs/roles.md, "Cases"), as one condition every case query
//! appends: the actor's jurisdiction (the case's responsible or filing division), narrowed
//!
//! * for an actor bound to a department (a department officer) to the cases referred to that
//!   department (`cases.department`, set from the workflow file at registration);
//! * for protected cases (R-PR-7) to the roles that act on a step of the case's workflow, in the
//!   case's responsible division, and to auditors, who read everything in their scope.
//!
//! Reads of anything hanging off a case (timeline, decisions, changes, letters, reports,
//! documents of a case, benefits) go through the same condition, so a case that is not
//! readable is not found whichever way it is asked for.

use jiuzhu_domain::{Actor, CaseReach};

use super::Sql;
use crate::ProtectedReaders;

/// The condition's values for one actor.
pub(crate) struct Reach {
    scope: String,
    department: Option<Option<&'static str>>,
    /// `None`: every protected case in scope; else the workflows whose protected cases the
    /// actor reads (in the responsible division).
    protected_workflows: Option<Vec<String>>,
}

impl Reach {
    pub fn of(actor: &Actor, readers: &ProtectedReaders) -> Reach {
        let department = match actor.case_reach() {
            CaseReach::Jurisdiction => None,
            CaseReach::Department(d) => Some(Some(d.as_str())),
            CaseReach::Nothing => Some(None),
        };
        let protected_workflows =
            (!actor.reads_all_protected()).then(|| readers.workflows_of(actor.role).to_vec());
        Reach {
            scope: actor.scope.like_pattern(),
            department,
            protected_workflows,
        }
    }

    /// Every case (the store's own reloads after a write it has checked).
    pub fn everything() -> Reach {
        Reach {
            scope: "%".into(),
            department: None,
            protected_workflows: None,
        }
    }

    /// Appends ` AND (…)`: the `cases` row aliased `c` is readable.
    pub fn and(&self, sql: &mut Sql, c: &str) {
        sql.push(&format!(" AND ({c}.division_responsible LIKE "))
            .bind_text(self.scope.as_str())
            .push(&format!(" OR {c}.division_filed LIKE "))
            .bind_text(self.scope.as_str())
            .push(")");
        match self.department {
            None => {}
            Some(Some(d)) => {
                sql.push(&format!(" AND {c}.department = ")).bind_text(d);
            }
            Some(None) => {
                sql.push(" AND 1 = 0");
            }
        }
        if let Some(wfs) = &self.protected_workflows {
            sql.push(&format!(" AND ({c}.protected = 0"));
            if !wfs.is_empty() {
                sql.push(&format!(" OR ({c}.division_responsible LIKE "))
                    .bind_text(self.scope.as_str())
                    .push(&format!(" AND {c}.workflow IN ("));
                for (i, w) in wfs.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind_text(w.as_str());
                }
                sql.push("))");
            }
            sql.push(")");
        }
    }

    /// The condition as a subquery on another table's case id column (`documents.owner_id`,
    /// …): `EXISTS (…)`.
    pub fn exists_case(&self, sql: &mut Sql, case_id: &str) {
        sql.push(&format!(
            "EXISTS (SELECT 1 FROM cases rc WHERE rc.id = {case_id}"
        ));
        self.and(sql, "rc");
        sql.push(")");
    }
}
