//! Working days and case workflows of jiuzhu (POLICY.md §6, R-DB-8, R-DB-10, R-LS-4, R-LS-5).
//! Pure: no I/O, no clock reads. Data files are embedded; callers may pass edited text.
//!
//! - [`calendar`]: the working-day calendar with China's holidays and adjusted workdays as data.
//! - [`workflow`]: per-program procedures as data (`workflows/*.toml`), loaded and validated.
//! - [`machine`]: the case state machine, due dates, due-soon/overdue and escalation.

pub mod calendar;
pub mod machine;
pub mod workflow;

pub use calendar::{CalendarError, DayKind, WorkCalendar, YearSource, CN_CALENDAR};
pub use machine::{
    alerts, apply, classify_due, escalation_target, start, urgency, Action, ActionError, ActorRef,
    Alert, AppliedLimit, Attachment, CaseState, Context, DeadlineState, Decision, DecisionOutcome,
    Fallbacks, Limits, OpenStep, RecordAction, StartOptions, StepInput, StepRecord, Transition,
    Urgency,
};
pub use workflow::{
    ActingLevel, CaseDeadline, Condition, DayUnit, GrantedAmount, Outcome, Phase, Step, StepKind,
    StepLevel, TimeLimit, Workflow, WorkflowFileError, Workflows, BUILTIN_WORKFLOWS, RECORD_KINDS,
};

/// Line starts of a text, found once, for files that cite many lines (a calendar year lists
/// every date with its line: counting from the start each time made a large file quadratic).
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(newline_offsets(text).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line of a byte span's start.
    pub(crate) fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.starts.partition_point(|&s| s <= span.start)
    }
}

fn newline_offsets(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
}

/// The 1-based line of a byte span's start in `text` (for a single error).
pub(crate) fn line_of(text: &str, span: std::ops::Range<usize>) -> usize {
    let end = span.start.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
