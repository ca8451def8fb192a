//! Who a month's work covers (docs/feeds.md, "Who is compared"). A household is *in force* in
//! month M when, in M, it has a benefit in force (an approved case's benefit not ended before M),
//! an application in progress (registered by the end of M and undecided at its start), or was
//! imported as the old system's current recipients (`households.recipient_from`) and has no
//! benefit stopped before M. Defined once here: the monthly comparison reads it, and so will
//! payments and the periodic review.

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use jiuzhu_domain::clock::beijing;

use super::rows::{date_text, ts_text};

/// The values the condition compares with, for one month.
pub(crate) struct MonthInForce {
    /// The month's last day (recipients imported by then).
    pub last_day: String,
    /// `YYYY-MM` (benefits' first and last paid months).
    pub month: String,
    /// The month's first day (a decision on or after it left the application open in M).
    pub first_day: String,
    /// The instant the month ends in Beijing, as stored timestamps are written (applications
    /// registered before it).
    pub end: String,
}

impl MonthInForce {
    pub fn new(last_day: NaiveDate) -> MonthInForce {
        let first_day = last_day.with_day0(0).unwrap_or(last_day);
        let next = last_day.checked_add_days(Days::new(1)).unwrap_or(last_day);
        let end = next
            .and_time(NaiveTime::MIN)
            .and_local_timezone(beijing())
            .single()
            .map(|t| ts_text(t.to_utc()))
            .unwrap_or_else(|| date_text(next));
        MonthInForce {
            last_day: date_text(last_day),
            month: last_day.format("%Y-%m").to_string(),
            first_day: date_text(first_day),
            end,
        }
    }

    /// The condition on the households aliased `h`, with `$n` … `$n+3` bound to
    /// [`Self::last_day`], [`Self::month`], [`Self::end`] and [`Self::first_day`] in that order.
    pub fn condition(h: &str, n: usize) -> String {
        let (last_day, month, end, first_day) = (n, n + 1, n + 2, n + 3);
        format!(
            "(({h}.recipient_from <= ${last_day} AND NOT EXISTS (SELECT 1 FROM benefit_status e \
               WHERE e.household_id = {h}.id AND e.status = 'ended' \
               AND e.last_paid_month < ${month})) \
             OR EXISTS (SELECT 1 FROM benefit_status b WHERE b.household_id = {h}.id \
               AND (b.start_month IS NULL OR b.start_month <= ${month}) \
               AND (b.status <> 'ended' OR b.last_paid_month >= ${month})) \
             OR EXISTS (SELECT 1 FROM cases c WHERE c.household_id = {h}.id \
               AND c.created_at < ${end} AND (c.status = 'open' OR EXISTS \
               (SELECT 1 FROM case_decisions d WHERE d.case_id = c.id \
                AND d.decided_on >= ${first_day}))))"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_ends_at_midnight_beijing() {
        let m = MonthInForce::new(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(m.first_day, "2026-02-01");
        assert_eq!(m.month, "2026-02");
        assert_eq!(m.end, "2026-02-28T16:00:00.000000Z");
    }
}
