//! The case state machine through the public surface: every program's path, with due dates
//! worked out by hand against the 2026 holiday calendar.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::{Department, Level, Role};
use jiuzhu_workflow::{
    alerts, apply, start, urgency, ActingLevel, Action, ActionError, ActorRef, CaseState, Context,
    DecisionOutcome, Fallbacks, Limits, RecordAction, StartOptions, StepInput, Transition, Urgency,
    WorkCalendar, Workflow, Workflows,
};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn actor(user: &str, role: Role, level: ActingLevel) -> ActorRef {
    ActorRef {
        user: user.into(),
        role,
        level,
        department: None,
    }
}
fn clerk() -> ActorRef {
    actor("窗口小王", Role::WindowClerk, ActingLevel::Township)
}
fn township() -> ActorRef {
    actor("乡镇老李", Role::TownshipReviewer, ActingLevel::Township)
}
fn village() -> ActorRef {
    actor("协理员小张", Role::VillageAssistant, ActingLevel::Village)
}
fn county() -> ActorRef {
    actor("县局老赵", Role::CountyApprover, ActingLevel::County)
}

struct World {
    wfs: Workflows,
    cal: WorkCalendar,
    limits: BTreeMap<String, u32>,
}

impl World {
    fn new() -> World {
        World {
            wfs: Workflows::builtin().unwrap(),
            cal: WorkCalendar::china().unwrap(),
            limits: BTreeMap::new(),
        }
    }
    fn wf(&self, id: &str) -> &Workflow {
        self.wfs.get(id).unwrap()
    }
    fn ctx(&self, today: &str) -> Context<'_> {
        Context {
            today: d(today),
            calendar: &self.cal,
            limits: &self.limits as &dyn Limits,
        }
    }
    fn start(&self, wf: &str, today: &str, flags: &[&str], delegated: bool) -> CaseState {
        let t = start(
            self.wf(wf),
            &StartOptions {
                flags: flags.iter().map(|s| s.to_string()).collect(),
                delegated,
            },
            &self.ctx(today),
        )
        .unwrap();
        t.state
    }
    fn act(
        &self,
        wf: &str,
        s: &CaseState,
        who: &ActorRef,
        a: Action,
        today: &str,
    ) -> Result<Transition, ActionError> {
        apply(self.wf(wf), s, who, &a, &self.ctx(today))
    }
    /// Act and check the history only grew by one record, keeping what was there.
    fn ok(&self, wf: &str, s: &CaseState, who: &ActorRef, a: Action, today: &str) -> Transition {
        let t = self
            .act(wf, s, who, a, today)
            .unwrap_or_else(|e| panic!("{}", e.message_zh()));
        assert_eq!(t.state.history.len(), s.history.len() + 1);
        assert_eq!(&t.state.history[..s.history.len()], &s.history[..]);
        assert_eq!(t.state.revision, s.revision + 1);
        t
    }
}

fn due(s: &CaseState, step: &str) -> NaiveDate {
    s.open_step(step)
        .unwrap_or_else(|| panic!("{step} not open: {:?}", s.open))
        .due
        .unwrap()
}

fn open_ids(s: &CaseState) -> Vec<&str> {
    s.open.iter().map(|o| o.step.as_str()).collect()
}

fn apply_input() -> StepInput {
    StepInput::new("apply")
        .attach("id_card", "f-1")
        .attach("verification_authorisation", "f-2")
}
fn survey_input() -> StepInput {
    StepInput::new("survey")
        .attach("survey_record", "f-4")
        .investigators(&["李四", "王五"])
        .opinion("家中无劳动力, 收入属实")
}

#[test]
fn dibao_happy_path_across_national_day_2026() {
    let w = World::new();
    let s = w.start("dibao", "2026-09-21", &[], false);
    assert_eq!(open_ids(&s), ["apply"]);
    assert_eq!(due(&s, "apply"), d("2026-09-24")); // 3 wd: 22, 23, 24
    assert_eq!(s.confirm_level, ActingLevel::County);

    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-09-21",
        )
        .state;
    // Overall 30 wd from 9/21: 22-24 (3), 28-30 (6), 10/8, 9 (8), Sat 10/10 (9), 10/12-16 (14),
    // 19-23 (19), 26-30 (24), 11/2-6 (29), 11/9 (30).
    assert_eq!(s.deadlines[0].due, d("2026-11-09"));
    assert!(s.deadlines[0].limit.fallback);
    assert_eq!(due(&s, "verify"), d("2026-09-29")); // 22, 23, 24, 28, 29 (25-27 中秋)
    assert_eq!(s.open_step("verify").unwrap().level, ActingLevel::County);

    let verify = StepInput::new("verify").attach("verification_report", "f-3");
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(verify),
            "2026-09-24",
        )
        .state;
    // 10 wd from 9/24: 28, 29, 30, 10/8, 9, Sat 10/10, 12, 13, 14, 15.
    assert_eq!(due(&s, "survey"), d("2026-10-15"));

    let s = w
        .ok(
            "dibao",
            &s,
            &village(),
            Action::Complete(survey_input()),
            "2026-10-09",
        )
        .state;
    // Not disputed, not a staff relative: appraisal and county visit are skipped.
    assert_eq!(open_ids(&s), ["review"]);
    assert_eq!(due(&s, "review"), d("2026-10-15")); // Sat 10/10, 12, 13, 14, 15

    let review = StepInput::new("review").attach("review_opinion", "f-5");
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(review),
            "2026-10-12",
        )
        .state;
    // Notice: 7 calendar days, posting day not counted: 10/13..10/19.
    assert_eq!(due(&s, "notice"), d("2026-10-19"));
    assert_eq!(s.notice_round, 1);
    assert_eq!(
        urgency(s.open_step("notice").unwrap(), d("2026-10-15"), &w.cal, 2).unwrap(),
        Urgency::Running
    );

    let notice = StepInput::new("notice").attach("notice_record", "f-6");
    let e = w
        .act(
            "dibao",
            &s,
            &township(),
            Action::Complete(notice.clone()),
            "2026-10-19",
        )
        .unwrap_err();
    assert_eq!(
        e,
        ActionError::NoticeRunning {
            ends: d("2026-10-19")
        }
    );
    assert!(e.message_zh().contains("2026-10-19"));
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(notice),
            "2026-10-20",
        )
        .state;
    // Confirmation within 10 wd of the notice's end (10/19): 20-23 (4), 26-30 (9), 11/2 (10).
    assert_eq!(due(&s, "confirm"), d("2026-11-02"));

    // The township may not confirm where confirmation is not delegated.
    let confirm = StepInput::new("confirm")
        .attach("decision_letter", "f-7")
        .opinion("同意, 月保障金按政策计算");
    let e = w
        .act(
            "dibao",
            &s,
            &township(),
            Action::Complete(confirm.clone()),
            "2026-10-28",
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_level");
    assert!(
        e.message_zh().contains("县级民政部门"),
        "{}",
        e.message_zh()
    );

    let t = w.ok(
        "dibao",
        &s,
        &county(),
        Action::Complete(confirm),
        "2026-10-28",
    );
    let s = t.state;
    let dec = s.decision.as_ref().unwrap();
    assert_eq!(dec.outcome, DecisionOutcome::Approved);
    assert_eq!(dec.payment_from, Some(d("2026-11-01"))); // R-DB-8
    assert_eq!(s.deadlines[0].met_on, Some(d("2026-10-28")));
    assert_eq!(open_ids(&s), ["filing"]);
    assert_eq!(t.opened[0].level, ActingLevel::County);
    assert_eq!(due(&s, "filing"), d("2026-11-04")); // 29, 30, 11/2, 3, 4
    assert_eq!(s.history.last().unwrap().action, RecordAction::Approved);

    let filing = StepInput::new("filing").attach("filing_receipt", "f-8");
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(filing),
            "2026-11-03",
        )
        .state;
    assert!(s.is_finished());
    assert_eq!(s.history.len(), 7);
    assert!(s.history.iter().all(|r| !r.late));
    assert_eq!(s.history[2].investigators, ["李四", "王五"]);
    assert_eq!(s.history[2].actor.user, "协理员小张");

    // The state persists as JSON and comes back equal.
    let json = serde_json::to_string(&s).unwrap();
    let back: CaseState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn tekun_delegated_to_the_township_across_spring_festival_2026() {
    let w = World::new();
    let s = w.start("tekun", "2026-02-09", &[], true);
    assert_eq!(due(&s, "apply"), d("2026-02-12"));
    let s = w
        .ok(
            "tekun",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-02-09",
        )
        .state;
    // 10, 11, 12, 13, Sat 2/14 (worked).
    assert_eq!(due(&s, "verify"), d("2026-02-14"));
    let s = w
        .ok(
            "tekun",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-02-13",
        )
        .state;
    // 15 wd: Sat 2/14 (1), [2/15-23 春节], 24-27 (5), Sat 2/28 (6), 3/2-6 (11), 3/9-12 (15).
    assert_eq!(due(&s, "survey"), d("2026-03-12"));

    // The tekun survey needs the self-care assessment too.
    let e = w
        .act(
            "tekun",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-03",
        )
        .unwrap_err();
    assert_eq!(
        e,
        ActionError::MissingRecord {
            record: "self_care_assessment".into()
        }
    );
    assert_eq!(e.message_zh(), "缺少材料:生活自理能力评估表");
    let survey = survey_input().attach("self_care_assessment", "a");
    let s = w
        .ok(
            "tekun",
            &s,
            &township(),
            Action::Complete(survey),
            "2026-03-03",
        )
        .state;
    assert_eq!(due(&s, "review"), d("2026-03-10"));
    let s = w
        .ok(
            "tekun",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-03-05",
        )
        .state;
    assert_eq!(due(&s, "notice"), d("2026-03-12"));
    let s = w
        .ok(
            "tekun",
            &s,
            &township(),
            Action::Complete(StepInput::new("notice").attach("notice_record", "n")),
            "2026-03-13",
        )
        .state;
    assert_eq!(due(&s, "confirm"), d("2026-03-26")); // 13, 16-20, 23-26
    assert_eq!(s.open_step("confirm").unwrap().level, ActingLevel::Township);

    // Delegated: the county approver is now the wrong level, the township confirms.
    let confirm = StepInput::new("confirm").attach("decision_letter", "l");
    assert_eq!(
        w.act(
            "tekun",
            &s,
            &county(),
            Action::Complete(confirm.clone()),
            "2026-03-16"
        )
        .unwrap_err()
        .code(),
        "wrong_level"
    );
    let s = w
        .ok(
            "tekun",
            &s,
            &township(),
            Action::Complete(confirm),
            "2026-03-16",
        )
        .state;
    assert_eq!(
        s.decision.as_ref().unwrap().payment_from,
        Some(d("2026-04-01"))
    );
    // Filing with the county within 5 wd (R-PR-5): 17, 18, 19, 20, 23.
    assert_eq!(due(&s, "filing"), d("2026-03-23"));
    assert_eq!(s.open_step("filing").unwrap().level, ActingLevel::Township);
}

#[test]
fn marginal_path_has_no_monthly_payment_and_policy_limits_override_fallbacks() {
    let mut w = World::new();
    w.limits
        .insert("procedure.marginal.survey.working_days".into(), 3);
    let s = w.start("marginal", "2026-06-15", &[], false);
    let s = w
        .ok(
            "marginal",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-06-15",
        )
        .state;
    let s = w
        .ok(
            "marginal",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-06-16",
        )
        .state;
    // 3 wd (policy) from 6/16: 17, 18, [19-21 端午], 22.
    assert_eq!(due(&s, "survey"), d("2026-06-22"));
    let lim = s.open_step("survey").unwrap().limit.clone().unwrap();
    assert_eq!((lim.days, lim.fallback), (3, false));
    let s = w
        .ok(
            "marginal",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-06-17",
        )
        .state;
    let s = w
        .ok(
            "marginal",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-06-17",
        )
        .state;
    let s = w
        .ok(
            "marginal",
            &s,
            &township(),
            Action::Complete(StepInput::new("notice").attach("notice_record", "n")),
            "2026-06-25",
        )
        .state;
    let s = w
        .ok(
            "marginal",
            &s,
            &county(),
            Action::Complete(StepInput::new("confirm").attach("decision_letter", "l")),
            "2026-06-26",
        )
        .state;
    let dec = s.decision.unwrap();
    assert_eq!(dec.outcome, DecisionOutcome::Approved);
    assert_eq!(dec.payment_from, None);
}

/// A dibao case brought to the confirmation step (county confirms), started 2026-03-02.
fn dibao_at_confirm(w: &World) -> CaseState {
    let s = w.start("dibao", "2026-03-02", &[], false);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-04",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-10",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-03-12",
        )
        .state;
    assert_eq!(due(&s, "notice"), d("2026-03-19"));
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("notice").attach("notice_record", "n")),
            "2026-03-20",
        )
        .state;
    assert_eq!(due(&s, "confirm"), d("2026-04-02")); // 20, 23-27, 30, 31, 4/1, 4/2
    s
}

#[test]
fn refusal_needs_reasons_and_opens_the_written_notice_within_3_working_days() {
    let w = World::new();
    let s = dibao_at_confirm(&w);
    let refuse = |reasons: &[&str]| Action::Refuse {
        input: StepInput::new("confirm").opinion("经核对, 存款超过规定"),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    };
    let e = w
        .act("dibao", &s, &county(), refuse(&[" ", ""]), "2026-04-02")
        .unwrap_err();
    assert_eq!(e, ActionError::ReasonsRequired);
    assert_eq!(e.message_zh(), "不予确认必须书面说明理由");

    // Refused on Thu 4/2: letter within 3 wd — 4/3, [4/4-6 清明], 4/7, 4/8.
    let t = w.ok(
        "dibao",
        &s,
        &county(),
        refuse(&["人均存款超过当地规定标准"]),
        "2026-04-02",
    );
    let s = t.state;
    let dec = s.decision.as_ref().unwrap();
    assert_eq!(dec.outcome, DecisionOutcome::Refused);
    assert_eq!(dec.reasons, ["人均存款超过当地规定标准"]);
    assert_eq!(open_ids(&s), ["refusal_letter"]);
    assert_eq!(due(&s, "refusal_letter"), d("2026-04-08"));
    assert_eq!(s.deadlines[0].met_on, Some(d("2026-04-02")));
    assert_eq!(s.history.last().unwrap().action, RecordAction::Refused);

    let e = w
        .act(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("refusal_letter")),
            "2026-04-07",
        )
        .unwrap_err();
    assert_eq!(e.code(), "missing_record");
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("refusal_letter").attach("refusal_letter", "x")),
            "2026-04-09",
        )
        .state;
    assert!(s.is_finished());
    assert!(s.history.last().unwrap().late, "done a day after 4/8");
}

#[test]
fn objection_during_notice_reinvestigates_with_appraisal_and_a_new_notice() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &[], false);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-04",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-10",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-03-12",
        )
        .state;
    let object = |today: &str, s: &CaseState| {
        w.act(
            "dibao",
            s,
            &township(),
            Action::Object {
                step: "notice".into(),
                opinion: "群众反映申请人有一辆营运车辆".into(),
                attachments: vec![jiuzhu_workflow::Attachment::new("objection_record", "x")],
            },
            today,
        )
    };
    // On the last day of the notice (3/19) an objection is still accepted.
    let s = object("2026-03-19", &s).unwrap().state;
    assert!(s.flags.contains("disputed"));
    assert_eq!(open_ids(&s), ["survey"]);
    assert_eq!(s.history.last().unwrap().action, RecordAction::Objected);
    // Re-investigation: 10 wd from 3/19: 20, 23-27, 30, 31, 4/1, 4/2.
    assert_eq!(due(&s, "survey"), d("2026-04-02"));

    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-24",
        )
        .state;
    // Now disputed: the democratic appraisal is part of the path.
    assert_eq!(open_ids(&s), ["appraisal"]);
    assert_eq!(
        s.open_step("appraisal").unwrap().level,
        ActingLevel::Village
    );
    let e = w
        .act(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("appraisal").attach("appraisal_minutes", "m")),
            "2026-03-25",
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_role");
    let s = w
        .ok(
            "dibao",
            &s,
            &village(),
            Action::Complete(StepInput::new("appraisal").attach("appraisal_minutes", "m")),
            "2026-03-25",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o2")),
            "2026-03-26",
        )
        .state;
    assert_eq!(s.notice_round, 2);
    assert_eq!(due(&s, "notice"), d("2026-04-02"));
    // After the period, objections are refused.
    let e = object("2026-04-03", &s).unwrap_err();
    assert_eq!(
        e,
        ActionError::NoticeEnded {
            ended: d("2026-04-02")
        }
    );
}

#[test]
fn optional_appraisal_when_the_survey_finds_a_dispute() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &[], false);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-03",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input().flag("disputed")),
            "2026-03-05",
        )
        .state;
    assert_eq!(open_ids(&s), ["appraisal"]);
    assert_eq!(due(&s, "appraisal"), d("2026-03-12")); // 6, 9, 10, 11, 12
                                                       // A user cannot set the derived flag.
    let e = w
        .act(
            "dibao",
            &s,
            &village(),
            Action::Complete(
                StepInput::new("appraisal")
                    .attach("appraisal_minutes", "m")
                    .flag("delegated"),
            ),
            "2026-03-06",
        )
        .unwrap_err();
    assert_eq!(e.code(), "unknown_flag");
}

#[test]
fn wrong_role_too_few_investigators_and_missing_authorisation() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &[], false);
    let e = w
        .act(
            "dibao",
            &s,
            &village(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .unwrap_err();
    assert!(matches!(
        e,
        ActionError::WrongRole {
            role: Role::VillageAssistant,
            ..
        }
    ));
    assert_eq!(
        e.message_zh(),
        "村/社区协理员无权办理“申请受理”,应由窗口受理员办理"
    );
    // An auditor never acts.
    let auditor = actor("审计", Role::Auditor, ActingLevel::Township);
    assert_eq!(
        w.act(
            "dibao",
            &s,
            &auditor,
            Action::Complete(apply_input()),
            "2026-03-02"
        )
        .unwrap_err()
        .code(),
        "wrong_role"
    );

    // 一证一书: no authorisation, no application.
    let e = w
        .act(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(StepInput::new("apply").attach("id_card", "f")),
            "2026-03-02",
        )
        .unwrap_err();
    assert_eq!(
        e,
        ActionError::MissingRecord {
            record: "verification_authorisation".into()
        }
    );
    assert_eq!(e.message_zh(), "缺少材料:家庭经济状况核对授权书");
    let e = w
        .act(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input().attach("application_form", " ")),
            "2026-03-02",
        )
        .unwrap_err();
    assert_eq!(e.code(), "empty_attachment");

    // A step that is not open.
    let e = w
        .act(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-02",
        )
        .unwrap_err();
    assert_eq!(e.code(), "step_not_open");
    assert_eq!(e.message_zh(), "“家庭经济状况核对”当前不在办理中,不能办理");

    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-03",
        )
        .state;
    // One investigator, or the same one twice, is not enough.
    for names in [&["李四"][..], &["李四", " 李四 ", ""][..]] {
        let e = w
            .act(
                "dibao",
                &s,
                &township(),
                Action::Complete(survey_input().investigators(names)),
                "2026-03-05",
            )
            .unwrap_err();
        assert_eq!(e, ActionError::TooFewInvestigators { needed: 2, got: 1 });
        assert!(e.message_zh().contains("至少需要2名调查人员"));
    }
    // Refusing is not an outcome of the survey.
    let e = w
        .act(
            "dibao",
            &s,
            &township(),
            Action::Refuse {
                input: StepInput::new("survey"),
                reasons: vec!["x".into()],
            },
            "2026-03-05",
        )
        .unwrap_err();
    assert_eq!(e.code(), "outcome_not_allowed");
}

#[test]
fn return_sends_the_case_back_with_a_reason() {
    let w = World::new();
    let s = dibao_at_confirm(&w);
    let e = w
        .act(
            "dibao",
            &s,
            &county(),
            Action::Return {
                step: "confirm".into(),
                opinion: "  ".into(),
            },
            "2026-03-23",
        )
        .unwrap_err();
    assert_eq!(e, ActionError::OpinionRequired);
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Return {
                step: "confirm".into(),
                opinion: "入户调查记录缺少签字, 请重新调查".into(),
            },
            "2026-03-23",
        )
        .state;
    assert_eq!(open_ids(&s), ["survey"]);
    assert_eq!(due(&s, "survey"), d("2026-04-07")); // 24-27, 30, 31, 4/1-3, [清明], 4/7
    assert_eq!(s.history.last().unwrap().action, RecordAction::Returned);
    // The overall clock keeps running from the application (a return does not restart it).
    assert_eq!(s.deadlines.len(), 1);
    assert_eq!(s.deadlines[0].started_on, d("2026-03-02"));
}

#[test]
fn staff_relative_needs_a_county_home_visit() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &["staff_relative"], true);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-03",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-05",
        )
        .state;
    assert_eq!(open_ids(&s), ["county_visit"]);
    assert_eq!(
        s.open_step("county_visit").unwrap().level,
        ActingLevel::County
    );
    assert_eq!(due(&s, "county_visit"), d("2026-03-19")); // 10 wd from 3/5
                                                          // Even with confirmation delegated, the township cannot do the county visit.
    let visit = StepInput::new("county_visit")
        .attach("county_visit_record", "v")
        .investigators(&["县局老赵", "县局小钱"]);
    assert_eq!(
        w.act(
            "dibao",
            &s,
            &township(),
            Action::Complete(visit.clone()),
            "2026-03-09"
        )
        .unwrap_err()
        .code(),
        "wrong_role"
    );
    let e = w
        .act(
            "dibao",
            &s,
            &county(),
            Action::Complete(visit.clone().investigators(&["县局老赵"])),
            "2026-03-09",
        )
        .unwrap_err();
    assert_eq!(e, ActionError::TooFewInvestigators { needed: 2, got: 1 });
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(visit),
            "2026-03-09",
        )
        .state;
    assert_eq!(open_ids(&s), ["review"]);
}

#[test]
fn temporary_assist_first_then_approve_after() {
    let w = World::new();
    // Fire on the eve of Labour Day 2026.
    let s = w.start("temporary", "2026-04-30", &["urgent"], true);
    assert_eq!(due(&s, "apply"), d("2026-05-06")); // 1 wd; 5/1-5 off
                                                   // Only the ID card at the window in an emergency.
    let s = w
        .ok(
            "temporary",
            &s,
            &clerk(),
            Action::Complete(StepInput::new("apply").attach("id_card", "f")),
            "2026-04-30",
        )
        .state;
    assert_eq!(open_ids(&s), ["assist"]);
    let s = w
        .ok(
            "temporary",
            &s,
            &township(),
            Action::Complete(
                StepInput::new("assist")
                    .attach("emergency_proof", "fire")
                    .attach("payment_voucher", "pv-1")
                    .opinion("火灾, 备用金先行支付2000元"),
            ),
            "2026-04-30",
        )
        .state;
    let after = s.deadlines.iter().find(|d| d.id == "after_assist").unwrap();
    // 10 wd from 4/30: 5/6, 7, 8, Sat 5/9, 11-15, 18.
    assert_eq!(after.due, d("2026-05-18"));
    assert_eq!(due(&s, "verify"), d("2026-05-11")); // 6, 7, 8, 9, 11

    // Verification needs the signed authorisation on file — it was not given at the window.
    let verify = StepInput::new("verify").attach("verification_report", "r");
    let e = w
        .act(
            "temporary",
            &s,
            &county(),
            Action::Complete(verify.clone()),
            "2026-05-06",
        )
        .unwrap_err();
    assert_eq!(
        e,
        ActionError::MissingRecord {
            record: "verification_authorisation".into()
        }
    );
    let s = w
        .ok(
            "temporary",
            &s,
            &county(),
            Action::Complete(verify.attach("verification_authorisation", "auth")),
            "2026-05-06",
        )
        .state;
    let s = w
        .ok(
            "temporary",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-05-07",
        )
        .state;
    let s = w
        .ok(
            "temporary",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-05-07",
        )
        .state;
    let s = w
        .ok(
            "temporary",
            &s,
            &township(),
            Action::Complete(StepInput::new("notice").attach("notice_record", "n")),
            "2026-05-15",
        )
        .state;
    // The approval deadline after assistance is still running on 5/15 and due soon.
    let al = alerts(&s, d("2026-05-15"), &w.cal, 1).unwrap();
    assert!(al
        .iter()
        .any(|a| a.what == "deadline:after_assist" && a.urgency == Urgency::DueSoon));
    let s = w
        .ok(
            "temporary",
            &s,
            &township(),
            Action::Complete(StepInput::new("confirm").attach("decision_letter", "l")),
            "2026-05-18",
        )
        .state;
    assert!(s
        .deadlines
        .iter()
        .all(|x| x.met_on == Some(d("2026-05-18"))));
    assert_eq!(s.decision.as_ref().unwrap().payment_from, None);

    // Without the urgent flag there is no assist step.
    let s = w.start("temporary", "2026-04-30", &[], true);
    let s = w
        .ok(
            "temporary",
            &s,
            &clerk(),
            Action::Complete(StepInput::new("apply").attach("id_card", "f")),
            "2026-04-30",
        )
        .state;
    assert_eq!(open_ids(&s), ["verify"]);
    assert_eq!(s.deadlines.len(), 1);
}

#[test]
fn referral_goes_to_the_right_department() {
    let w = World::new();
    let s = w.start("referral_medical", "2026-11-23", &[], false);
    let s = w
        .ok(
            "referral_medical",
            &s,
            &clerk(),
            Action::Complete(StepInput::new("apply").attach("id_card", "f")),
            "2026-11-23",
        )
        .state;
    let s = w
        .ok(
            "referral_medical",
            &s,
            &clerk(),
            Action::Complete(StepInput::new("route").attach("referral_form", "rf")),
            "2026-11-23",
        )
        .state;
    assert_eq!(
        s.open_step("handle").unwrap().level,
        ActingLevel::Department
    );
    assert_eq!(due(&s, "handle"), d("2026-12-07")); // 10 wd from Mon 11/23
    let officer = |dep| ActorRef {
        department: Some(dep),
        ..actor("部门", Role::DepartmentOfficer, ActingLevel::Department)
    };
    let handle = StepInput::new("handle").attach("department_feedback", "fb");
    let e = w
        .act(
            "referral_medical",
            &s,
            &officer(Department::Education),
            Action::Complete(handle.clone()),
            "2026-11-25",
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_department");
    assert_eq!(e.message_zh(), "“部门办理”应由医疗保障部门办理");
    let s = w
        .ok(
            "referral_medical",
            &s,
            &officer(Department::MedicalInsurance),
            Action::Complete(handle),
            "2026-11-25",
        )
        .state;
    assert_eq!(open_ids(&s), ["inform_granted"]);
    assert_eq!(due(&s, "inform_granted"), d("2026-11-30")); // 26, 27, 30

    for id in [
        "referral_education",
        "referral_housing",
        "referral_employment",
    ] {
        assert!(w.wf(id).department.is_some(), "{id}");
    }
}

#[test]
fn due_soon_overdue_and_escalation() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &[], false);
    let open = s.open_step("apply").unwrap();
    assert_eq!(open.due, Some(d("2026-03-05")));
    assert_eq!(
        urgency(open, d("2026-03-02"), &w.cal, 1).unwrap(),
        Urgency::OnTime
    );
    assert_eq!(
        urgency(open, d("2026-03-04"), &w.cal, 1).unwrap(),
        Urgency::DueSoon
    );
    assert_eq!(
        urgency(open, d("2026-03-05"), &w.cal, 0).unwrap(),
        Urgency::DueSoon
    );
    assert_eq!(
        urgency(open, d("2026-03-06"), &w.cal, 1).unwrap(),
        Urgency::Overdue
    );
    let al = alerts(&s, d("2026-03-06"), &w.cal, 1).unwrap();
    assert_eq!(al.len(), 1);
    assert_eq!(al[0].escalate_to, Some(Level::County)); // a township step goes to the county
    assert_eq!(
        jiuzhu_workflow::escalation_target(ActingLevel::Village),
        Level::Township
    );
    assert_eq!(
        jiuzhu_workflow::escalation_target(ActingLevel::County),
        Level::City
    );

    // A notice must be closed on the first working day after it ends.
    let s = w.start("dibao", "2026-03-02", &[], false);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-03",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-03",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-03-13",
        )
        .state;
    let n = s.open_step("notice").unwrap();
    assert_eq!(n.due, Some(d("2026-03-20"))); // posted Fri 3/13, last day Fri 3/20
    assert_eq!(
        urgency(n, d("2026-03-20"), &w.cal, 0).unwrap(),
        Urgency::Running
    );
    assert_eq!(
        urgency(n, d("2026-03-21"), &w.cal, 0).unwrap(),
        Urgency::OnTime
    );
    assert_eq!(
        urgency(n, d("2026-03-23"), &w.cal, 0).unwrap(),
        Urgency::DueSoon
    );
    assert_eq!(
        urgency(n, d("2026-03-24"), &w.cal, 0).unwrap(),
        Urgency::Overdue
    );
}

#[test]
fn due_dates_past_the_calendar_are_an_error_not_a_guess() {
    let w = World::new();
    let s = w.start("dibao", "2027-12-27", &[], false);
    assert_eq!(due(&s, "apply"), d("2027-12-30"));
    // The 30-working-day overall clock would run into 2028, which is not in the calendar.
    let e = w
        .act(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2027-12-27",
        )
        .unwrap_err();
    assert_eq!(e.code(), "calendar_not_covered");
    assert!(e.message_zh().contains("请管理员录入该年度放假安排"));
    // With 2028 added by an overlay the same action succeeds (fallback limits only).
    let overlay =
        "[[year]]\nyear = 2028\nnotice = \"t\"\nnumber = \"t\"\nissued = \"2027-11-01\"\n\
                   holiday = [{ name = \"元旦\", dates = [\"2028-01-01\"] }]\n";
    let cal = WorkCalendar::load(jiuzhu_workflow::CN_CALENDAR, &[("2028", overlay)]).unwrap();
    let ctx = Context {
        today: d("2027-12-27"),
        calendar: &cal,
        limits: &Fallbacks,
    };
    let t = apply(
        w.wf("dibao"),
        &s,
        &clerk(),
        &Action::Complete(apply_input()),
        &ctx,
    )
    .unwrap();
    // 12/28, 12/29, 12/30, 12/31, (1/1 off, 1/2 Sun) 1/3.
    assert_eq!(t.opened[0].due, Some(d("2028-01-03")));
}

#[test]
fn protected_procedure_is_not_posted() {
    let w = World::new();
    let s = w.start("dibao", "2026-03-02", &["protected"], false);
    let s = w
        .ok(
            "dibao",
            &s,
            &clerk(),
            Action::Complete(apply_input()),
            "2026-03-02",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &county(),
            Action::Complete(StepInput::new("verify").attach("verification_report", "r")),
            "2026-03-03",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(survey_input()),
            "2026-03-04",
        )
        .state;
    let s = w
        .ok(
            "dibao",
            &s,
            &township(),
            Action::Complete(StepInput::new("review").attach("review_opinion", "o")),
            "2026-03-05",
        )
        .state;
    // Straight to confirmation, 10 wd from the review: 6, 9-13, 16-19.
    assert_eq!(open_ids(&s), ["confirm"]);
    assert_eq!(due(&s, "confirm"), d("2026-03-19"));
    assert_eq!(s.notice_round, 0);
}

#[test]
fn actions_and_actors_travel_as_json() {
    let a = Action::Complete(survey_input().flag("disputed"));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["action"], "complete");
    assert_eq!(json["step"], "survey");
    assert_eq!(json["investigators"][1], "王五");
    assert_eq!(serde_json::from_value::<Action>(json).unwrap(), a);
    let r: Action = serde_json::from_str(
        r#"{"action":"refuse","input":{"step":"confirm"},"reasons":["收入超标"]}"#,
    )
    .unwrap();
    assert_eq!(r.step(), "confirm");
    assert_eq!(
        ActingLevel::of(Role::VillageAssistant, Level::Grid),
        Some(ActingLevel::Village)
    );
    assert_eq!(
        ActingLevel::of(Role::DepartmentOfficer, Level::County),
        Some(ActingLevel::Department)
    );
    assert_eq!(ActingLevel::of(Role::CountyApprover, Level::City), None);
}
