//! Workflow files: the shipped ones load, and broken ones are refused with file, line and field.

use jiuzhu_domain::{Department, Role};
use jiuzhu_workflow::{
    ActingLevel, DayUnit, GrantedAmount, Phase, StepKind, StepLevel, Workflow, WorkflowFileError,
    Workflows,
};

fn ids(wf: &Workflow, phase: Phase) -> Vec<&str> {
    wf.steps
        .iter()
        .filter(|s| s.phase == phase)
        .map(|s| s.id.as_str())
        .collect()
}

/// One change workflow (调整/暂停/恢复/停止) serves 低保, 特困 and 低保边缘; the optional home
/// check follows the `home_check` flag set when the change is proposed.
#[test]
fn the_change_workflow_serves_the_monthly_programs() {
    use jiuzhu_workflow::{
        apply, start, Action, ActorRef, Context, Fallbacks, StartOptions, StepInput, WorkCalendar,
    };
    let wfs = Workflows::builtin().unwrap();
    let wf = wfs.get("dibao_change").unwrap();
    assert_eq!(wf.changes, ["dibao", "tekun", "marginal"]);
    for p in ["dibao", "tekun", "marginal"] {
        assert_eq!(
            wfs.change_workflow_for(p).map(|w| w.id.as_str()),
            Some("dibao_change")
        );
    }
    assert!(wfs.change_workflow_for("temporary").is_none());
    assert!(wfs.get("dibao").unwrap().changes.is_empty());
    assert_eq!(ids(wf, Phase::Main), ["propose", "survey", "confirm"]);
    assert_eq!(ids(wf, Phase::AfterApproval), ["filing"]);
    let filing = wf.step("filing").unwrap().limit.as_ref().unwrap();
    assert_eq!((filing.unit, filing.fallback), (DayUnit::WorkingDays, 5));

    let cal = WorkCalendar::china().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let ctx = Context {
        today,
        calendar: &cal,
        limits: &Fallbacks,
    };
    let reviewer = ActorRef {
        user: "r".into(),
        role: Role::TownshipReviewer,
        level: ActingLevel::Township,
        department: None,
    };
    let propose = Action::Complete(StepInput::new("propose").opinion("收入增加"));
    for (flags, next) in [
        (vec![], "confirm"),
        (vec!["home_check".to_string()], "survey"),
    ] {
        let s = start(
            wf,
            &StartOptions {
                flags,
                delegated: false,
            },
            &ctx,
        )
        .unwrap()
        .state;
        let t = apply(wf, &s, &reviewer, &propose, &ctx).unwrap();
        assert_eq!(t.state.open[0].step, next);
    }
}

#[test]
fn shipped_workflows_load_with_the_expected_steps() {
    let wfs = Workflows::builtin().unwrap();
    let all: Vec<&str> = wfs.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(
        all,
        [
            "dibao",
            "dibao_change",
            "marginal",
            "referral_education",
            "referral_employment",
            "referral_housing",
            "referral_medical",
            "tekun",
            "temporary"
        ]
    );
    let dibao = wfs.get("dibao").unwrap();
    assert_eq!(
        ids(dibao, Phase::Main),
        [
            "apply",
            "verify",
            "survey",
            "appraisal",
            "county_visit",
            "review",
            "notice",
            "confirm"
        ]
    );
    assert_eq!(ids(dibao, Phase::AfterApproval), ["filing"]);
    assert_eq!(ids(dibao, Phase::AfterRefusal), ["refusal_letter"]);
    let survey = dibao.step("survey").unwrap();
    assert_eq!(survey.kind, StepKind::Survey);
    assert_eq!(survey.min_investigators, 2);
    assert_eq!(survey.label, "入户调查");
    let notice = dibao.step("notice").unwrap();
    let limit = notice.limit.as_ref().unwrap();
    assert_eq!((limit.unit, limit.fallback), (DayUnit::CalendarDays, 7));
    assert_eq!(notice.on_object.as_deref(), Some("survey"));
    assert_eq!(dibao.step("confirm").unwrap().level, StepLevel::Confirming);
    assert!(dibao.step("appraisal").unwrap().when.is_some());
    assert!(dibao.monthly_payment);
    let temporary = wfs.get("temporary").unwrap();
    assert_eq!(temporary.step("assist").unwrap().kind, StepKind::Assist);
    assert_eq!(temporary.deadlines.len(), 2);
    let referral = wfs.get("referral_housing").unwrap();
    assert_eq!(referral.department, Some(Department::Housing));
    assert_eq!(
        referral.step("handle").unwrap().level,
        StepLevel::At(ActingLevel::Department)
    );
    assert_eq!(
        referral.step("handle").unwrap().roles,
        [Role::DepartmentOfficer]
    );

    // Every time limit names a policy parameter of its own program and says where its
    // fallback comes from.
    for wf in wfs.iter() {
        let limits = wf
            .steps
            .iter()
            .filter_map(|s| s.limit.as_ref())
            .chain(wf.deadlines.iter().map(|d| &d.limit));
        for l in limits {
            assert!(
                l.param.starts_with(&format!("procedure.{}.", wf.id)),
                "{}: {}",
                wf.id,
                l.param
            );
            assert!(!l.fallback_source.trim().is_empty(), "{}", l.param);
        }
        // No program lets the auditor, an administrator or the county manager (who keeps the
        // standards cases are decided by) act on a case.
        for s in &wf.steps {
            assert!(!s.roles.contains(&Role::Auditor) && !s.roles.contains(&Role::CountyManager));
            assert!(!s.roles.iter().any(|r| r.is_admin()), "{}", wf.id);
        }
    }
}

const GOOD: &str = r#"[workflow]
id = "x"
program = "测试"
label = "测试流程"
confirmation_setting = "s"

[[step]]
id = "apply"
label = "申请受理"
roles = ["window_clerk"]
level = "township"
outcomes = ["complete"]

[[step]]
id = "confirm"
label = "审核确认"
kind = "decision"
roles = ["county_approver"]
level = "county"
outcomes = ["complete", "refuse", "return"]
"#;

fn err(text: &str) -> WorkflowFileError {
    Workflow::parse("workflows/x.toml", text).unwrap_err()
}

#[test]
fn a_minimal_file_loads() {
    let wf = Workflow::parse("workflows/x.toml", GOOD).unwrap();
    assert_eq!(wf.steps.len(), 2);
    assert_eq!(wf.file, "workflows/x.toml");
}

#[test]
fn unknown_role_names_file_line_and_field() {
    let e = err(&GOOD.replace(r#"roles = ["county_approver"]"#, r#"roles = ["mayor"]"#));
    assert_eq!(e.file, "workflows/x.toml");
    assert_eq!(e.line, 18);
    assert_eq!(e.field, "step.roles");
    assert_eq!(e.code, "unknown_role");
    assert_eq!(e.message, "未知角色“mayor”");
    // Chinese role names are accepted.
    assert!(Workflow::parse(
        "x",
        &GOOD.replace(
            r#"roles = ["county_approver"]"#,
            r#"roles = ["县级审批员"]"#
        )
    )
    .is_ok());
}

#[test]
fn unknown_step_in_a_transition() {
    let e = err(&GOOD.replace(
        r#"outcomes = ["complete", "refuse", "return"]"#,
        "outcomes = [\"complete\", \"refuse\", \"return\"]\nreturn_to = \"survey\"",
    ));
    assert_eq!(
        (e.line, e.field.as_str(), e.code.as_str()),
        (21, "step.return_to", "unknown_step")
    );
    assert!(e.message.contains("survey"));
}

#[test]
fn missing_and_unknown_fields() {
    let e = err(&GOOD.replace("level = \"county\"\n", ""));
    assert_eq!(e.code, "missing_field");
    assert_eq!(e.field, "level");
    assert_eq!(e.line, 14, "{e}");
    let e = err(&GOOD.replace(
        "label = \"申请受理\"",
        "label = \"申请受理\"\ncolour = \"red\"",
    ));
    assert_eq!(
        (e.code.as_str(), e.field.as_str(), e.line),
        ("unknown_field", "colour", 10)
    );
}

#[test]
fn semantic_checks() {
    let survey = GOOD.replace(
        "[[step]]\nid = \"confirm\"",
        "[[step]]\nid = \"survey\"\nlabel = \"入户调查\"\nkind = \"survey\"\nroles = [\"township_reviewer\"]\nlevel = \"township\"\nmin_investigators = 1\noutcomes = [\"complete\"]\n\n[[step]]\nid = \"confirm\"",
    );
    let e = err(&survey);
    assert_eq!((e.code.as_str(), e.line), ("too_few_investigators", 20));

    let e = err(&GOOD.replace("level = \"county\"", "level = \"city\""));
    assert_eq!(
        (e.code.as_str(), e.field.as_str()),
        ("unknown_level", "step.level")
    );

    let e = err(&GOOD.replace(
        "level = \"township\"",
        "level = \"township\"\nneeds_attached = [\"passport\"]",
    ));
    assert_eq!((e.code.as_str(), e.line), ("unknown_record", 12));

    let e = err(&GOOD.replace("kind = \"decision\"\n", ""));
    assert_eq!(e.code, "refuse_outside_decision");
    let e = err(&GOOD.replace(
        "outcomes = [\"complete\", \"refuse\", \"return\"]",
        "outcomes = [\"complete\"]\nwhen = \"disputed\"",
    ));
    assert_eq!(e.code, "no_final_decision");
    let e = err(&GOOD.replace(
        "level = \"township\"",
        "level = \"township\"\nwhen = \"rainy\"",
    ));
    assert_eq!((e.code.as_str(), e.line), ("unknown_flag", 12));
    let e = err(&GOOD.replace("id = \"confirm\"", "id = \"apply\""));
    assert_eq!((e.code.as_str(), e.line), ("duplicate_step", 15));
    let e = err(&GOOD.replace("level = \"county\"", "level = \"department\""));
    assert_eq!(e.code, "missing_department");
    // A notice must have a period and an objection route.
    let e = err(&GOOD.replace(
        "[[step]]\nid = \"confirm\"",
        "[[step]]\nid = \"notice\"\nlabel = \"公示\"\nkind = \"notice\"\nroles = [\"township_reviewer\"]\nlevel = \"township\"\noutcomes = [\"complete\", \"object\"]\non_object = \"apply\"\n\n[[step]]\nid = \"confirm\"",
    ));
    assert_eq!(e.code, "notice_without_period");
}

/// What an approval pays is data of the workflow (`pays`), never a test of its id: a monthly
/// application must name it, and nothing else may.
#[test]
fn a_monthly_application_names_the_amount_it_pays() {
    let monthly = GOOD.replace(
        "label = \"测试流程\"",
        "label = \"测试流程\"\nmonthly_payment = true",
    );
    let e = err(&monthly);
    assert_eq!(
        (e.code.as_str(), e.field.as_str()),
        ("missing_pays", "workflow.pays")
    );
    let wf = Workflow::parse(
        "x.toml",
        &monthly.replace(
            "monthly_payment = true",
            "monthly_payment = true\npays = \"tekun\"",
        ),
    )
    .unwrap();
    assert_eq!(wf.pays, Some(GrantedAmount::Tekun));
    let e = err(&monthly.replace(
        "monthly_payment = true",
        "monthly_payment = true\npays = \"bonus\"",
    ));
    assert_eq!(e.code, "unknown_pays");
    let e = err(&GOOD.replace(
        "label = \"测试流程\"",
        "label = \"测试流程\"\npays = \"dibao\"",
    ));
    assert_eq!(e.code, "pays_not_monthly");
    let shipped = Workflows::builtin().unwrap();
    let pays = |id: &str| shipped.get(id).unwrap().pays;
    assert_eq!(pays("dibao"), Some(GrantedAmount::Dibao));
    assert_eq!(pays("tekun"), Some(GrantedAmount::Tekun));
    assert_eq!(pays("dibao_change"), None);
    assert!(shipped.get("dibao").unwrap().one_place_per_person);
    assert!(shipped.get("temporary").unwrap().assist_first);
    assert!(!shipped.get("tekun").unwrap().assist_first);
}

#[test]
fn a_later_file_with_the_same_id_replaces_the_shipped_one() {
    let mut files: Vec<(&str, &str)> = jiuzhu_workflow::BUILTIN_WORKFLOWS.to_vec();
    let custom = GOOD.replace("id = \"x\"", "id = \"dibao\"");
    files.push(("区县定制/dibao.toml", &custom));
    let wfs = Workflows::load(&files).unwrap();
    assert_eq!(wfs.get("dibao").unwrap().steps.len(), 2);
    assert_eq!(wfs.get("dibao").unwrap().file, "区县定制/dibao.toml");
}

/// Who handles a program's cases (and so may read a protected one, R-PR-7) follows from the
/// steps of its file: department officers act on the referrals only, and the civil-affairs
/// roles on 低保.
#[test]
fn acting_roles_come_from_the_steps() {
    let all = Workflows::builtin().unwrap();
    let dibao = all.get("dibao").unwrap();
    for r in [
        Role::WindowClerk,
        Role::VillageAssistant,
        Role::TownshipReviewer,
        Role::CountyApprover,
    ] {
        assert!(dibao.acts(r), "{r:?}");
    }
    for r in [
        Role::DepartmentOfficer,
        Role::Auditor,
        Role::CountyManager,
        Role::SystemAdmin,
    ] {
        assert!(!dibao.acts(r), "{r:?}");
    }
    for w in all.iter() {
        assert_eq!(
            w.acts(Role::DepartmentOfficer),
            w.department.is_some(),
            "{}",
            w.id
        );
    }
}
