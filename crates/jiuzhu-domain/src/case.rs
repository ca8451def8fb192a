//! Where a case stands and how it was decided: typed, stored as their lowercase names.

use serde::{Deserialize, Serialize};

/// Where a case stands (the `cases.status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Being handled (办理中).
    Open,
    /// Decided for the applicant (已确认).
    Approved,
    /// Decided against (不予确认).
    Refused,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 3] = [CaseStatus::Open, CaseStatus::Approved, CaseStatus::Refused];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Approved => "approved",
            CaseStatus::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseStatus::Open => "办理中",
            CaseStatus::Approved => "已确认",
            CaseStatus::Refused => "不予确认",
        }
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a decision went (the `case_decisions.outcome` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Approved,
    Refused,
}

impl DecisionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Approved => "approved",
            DecisionOutcome::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<DecisionOutcome> {
        [DecisionOutcome::Approved, DecisionOutcome::Refused]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// The status a case has after the decision.
    pub fn status(self) -> CaseStatus {
        match self {
            DecisionOutcome::Approved => CaseStatus::Approved,
            DecisionOutcome::Refused => CaseStatus::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(CaseStatus::parse("closed"), None);
        assert_eq!(
            DecisionOutcome::parse("refused").map(DecisionOutcome::status),
            Some(CaseStatus::Refused)
        );
    }
}
