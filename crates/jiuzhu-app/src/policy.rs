//! Policy administration (政策参数调整): recording a dated revision of a region's parameter with
//! its legal basis, and withdrawing one not yet in force — for the `/policies` pages, their API
//! and `jiuzhu policy`. Every revision names the newest one of its region the editor saw
//! (`expected_seq`), so that two administrators never overwrite each other.

use jiuzhu_domain::access::{ManagePolicies, ReadRegistry};
use jiuzhu_domain::{DivisionCode, FieldError, Grant};
use jiuzhu_policy::validate_revision;
use jiuzhu_store::{NewPolicyRevision, PolicyRevision};
use serde::Deserialize;

use crate::{App, Error, Result};

/// What a revision form or API body carries (all text, checked here).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RevisionInput {
    /// The seq of the newest revision of this region the client saw (0 when it had none).
    pub expected_seq: Option<i64>,
    /// Parameter name, e.g. `dibao.standard.urban`.
    pub param: String,
    /// `YYYY-MM-DD`.
    pub effective_from: String,
    /// In the notation of the policy files: `850.00`, `0.30`, `60`, `true`, a choice word, or a
    /// tier list.
    pub value: String,
    /// Title of the deciding document.
    pub document: String,
    /// Its number (文号).
    pub number: Option<String>,
    /// Article / clause.
    pub article: Option<String>,
    pub reason: String,
    /// Required when `effective_from` is before today (追溯生效): why months already computed
    /// change. Preview the change with `/whatif` (or `POST /api/v1/whatif`) first.
    pub retroactive_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct WithdrawInput {
    /// The seq of the newest revision of the withdrawn revision's region the client saw.
    pub expected_seq: Option<i64>,
    pub reason: String,
}

fn required_expected(expected: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    match expected {
        Some(n) if n >= 0 => n,
        _ => {
            errors.push(FieldError::new(
                "expected_seq",
                "REQUIRED",
                "最新调整序号:请提供您看到的本地区最新调整序号(无调整时为 0)",
            ));
            0
        }
    }
}

impl App {
    /// Validates a revision against the parameters in force and records it; every field in
    /// error is named at once.
    pub async fn record_policy_revision(
        &self,
        grant: &Grant<ManagePolicies>,
        region: &str,
        input: &RevisionInput,
    ) -> Result<PolicyRevision> {
        let lib = self.params().await?.policies.clone();
        let mut errors = Vec::new();
        let expected = required_expected(input.expected_seq, &mut errors);
        let valid = validate_revision(
            &lib,
            region,
            &input.param,
            &input.effective_from,
            &input.value,
        )
        .map_err(|mut e| errors.append(&mut e))
        .ok();
        if input.document.trim().is_empty() {
            errors.push(FieldError::new(
                "document",
                "REQUIRED",
                "依据文件:请填写文件名称",
            ));
        }
        if input.reason.trim().is_empty() {
            errors.push(FieldError::new("reason", "REQUIRED", "调整原因:请填写"));
        }
        let valid = match valid {
            Some(v) if errors.is_empty() => v,
            _ => return Err(Error::invalid(errors)),
        };
        let revision = NewPolicyRevision {
            region: valid.region,
            param: valid.param.to_string(),
            effective_from: valid.effective_from,
            value: valid.text,
            document: input.document.trim().to_string(),
            number: input.number.clone(),
            article: input.article.clone(),
            reason: input.reason.trim().to_string(),
            previous_value: valid.previous,
            retroactive_reason: input.retroactive_reason.clone(),
        };
        Ok(self
            .store
            .record_policy_revision(grant, expected, &revision)
            .await?)
    }

    /// Withdraws a revision not yet in force.
    pub async fn withdraw_policy_revision(
        &self,
        grant: &Grant<ManagePolicies>,
        seq: i64,
        input: &WithdrawInput,
    ) -> Result<PolicyRevision> {
        let mut errors = Vec::new();
        let expected = required_expected(input.expected_seq, &mut errors);
        if input.reason.trim().is_empty() {
            errors.push(FieldError::new("reason", "REQUIRED", "撤回原因:请填写"));
        }
        if !errors.is_empty() {
            return Err(Error::invalid(errors));
        }
        Ok(self
            .store
            .withdraw_policy_revision(grant, expected, seq, &input.reason)
            .await?)
    }

    /// The stored revisions of `region` (all regions in scope when `None`), oldest first.
    pub async fn policy_revisions(
        &self,
        grant: &Grant<ReadRegistry>,
        region: Option<&DivisionCode>,
    ) -> Result<Vec<PolicyRevision>> {
        Ok(self.store.policy_revisions(grant, region).await?)
    }
}
