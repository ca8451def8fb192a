//! What stands between an unauthenticated client and the password hash:
//!
//! * A per-address token bucket on login requests, sized so that a township's staff behind one
//!   NAT address (hundreds of logins in a minute) get in.
//! * A per-(account, address) throttle: after `free_failures` wrong passwords each further attempt
//!   must wait, the wait doubling up to `max_delay`. It never locks the account for anyone else,
//!   and it is kept for names that do not exist exactly as for names that do, so the answers do
//!   not tell them apart.
//! * Aggregation of failed logins with unknown names: one audit event per address and window.
//!
//! All state is in memory, in LRU maps of bounded size (the oldest entries are dropped), and read
//! against the injected clock.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use lru::LruCache;

use crate::error::AppError;

/// Limits of logins (`WebConfig::login`); password hashing is bounded by the application.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Wrong passwords per (account, address) answered without delay.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// A (account, address) pair without a failure for this long starts afresh.
    pub forget_after: Duration,
    /// Login requests one address may send at once…
    pub per_address_burst: u32,
    /// …and per minute after that.
    pub per_address_per_minute: u32,
    /// Failed logins with unknown names from one address are audited once per window.
    pub unknown_window: Duration,
    /// Entries kept in each of the maps above (oldest dropped first).
    pub tracked: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            free_failures: 5,
            first_delay: Duration::seconds(1),
            max_delay: Duration::minutes(5),
            forget_after: Duration::hours(1),
            per_address_burst: 300,
            per_address_per_minute: 300,
            unknown_window: Duration::minutes(10),
            tracked: 100_000,
        }
    }
}

/// Seconds to wait, rounded up (at least 1).
fn secs(d: Duration) -> u64 {
    let ms = d.num_milliseconds().max(1);
    (ms as u64).div_ceil(1000)
}

fn cache<K: std::hash::Hash + Eq, V>(n: usize) -> Mutex<LruCache<K, V>> {
    Mutex::new(LruCache::new(
        NonZeroUsize::new(n.max(1)).expect("not zero"),
    ))
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
struct UnknownWindow {
    started: DateTime<Utc>,
    suppressed: u64,
}

/// The login guard of one application (in `AppState`).
pub struct LoginGuard {
    pub limits: LoginLimits,
    throttle: Mutex<LruCache<(String, IpAddr), Failures>>,
    buckets: Mutex<LruCache<IpAddr, Bucket>>,
    unknown: Mutex<LruCache<IpAddr, UnknownWindow>>,
}

/// The name a throttle counts under: as typed, trimmed and case-folded, so `Admin` and
/// `admin ` are one account.
pub fn normalise_account(name: &str) -> String {
    name.trim().to_lowercase().chars().take(64).collect()
}

impl LoginGuard {
    pub fn new(limits: LoginLimits) -> LoginGuard {
        LoginGuard {
            throttle: cache(limits.tracked),
            buckets: cache(limits.tracked),
            unknown: cache(limits.tracked),
            limits,
        }
    }

    /// Takes one login request from `addr`'s bucket, or says how long to wait.
    pub fn admit_address(&self, addr: IpAddr, now: DateTime<Utc>) -> Result<(), AppError> {
        let burst = f64::from(self.limits.per_address_burst.max(1));
        let per_ms = f64::from(self.limits.per_address_per_minute.max(1)) / 60_000.0;
        let mut map = self.buckets.lock().expect("bucket lock");
        let b = map.get_or_insert_mut(addr, || Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = (now - b.at).num_milliseconds().max(0) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait_ms = ((1.0 - b.tokens) / per_ms).ceil() as i64;
        let wait = secs(Duration::milliseconds(wait_ms));
        Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("来自您所在网络的登录请求过多,请 {wait} 秒后再试"),
        )
        .retry_after(wait))
    }

    /// Refuses an attempt that comes before the wait of earlier failures is over. The answer
    /// depends only on (name, address), never on whether the account exists.
    pub fn check_throttle(
        &self,
        account: &str,
        addr: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let key = (normalise_account(account), addr);
        let mut map = self.throttle.lock().expect("throttle lock");
        let Some(f) = map.peek(&key).copied() else {
            return Ok(());
        };
        if now - f.last > self.limits.forget_after {
            map.pop(&key);
            return Ok(());
        }
        match f.until {
            Some(until) if until > now => {
                let wait = secs(until - now);
                Err(throttled(wait))
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong password (or unknown name) for (name, address) and sets the next wait.
    pub fn failed(&self, account: &str, addr: IpAddr, now: DateTime<Utc>) {
        let key = (normalise_account(account), addr);
        let limits = &self.limits;
        let mut map = self.throttle.lock().expect("throttle lock");
        let f = map.get_or_insert_mut(key, || Failures {
            count: 0,
            last: now,
            until: None,
        });
        if now - f.last > limits.forget_after {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        f.until = (f.count >= limits.free_failures).then(|| {
            let doublings = (f.count - limits.free_failures).min(30);
            let delay = limits
                .first_delay
                .checked_mul(1i32 << doublings.min(20))
                .unwrap_or(limits.max_delay)
                .min(limits.max_delay);
            now + delay
        });
    }

    /// A successful login ends the throttle of (name, address).
    pub fn succeeded(&self, account: &str, addr: IpAddr) {
        let key = (normalise_account(account), addr);
        self.throttle.lock().expect("throttle lock").pop(&key);
    }

    /// Lifts the throttle of an account from every address (an administrator's 解除登录限制).
    pub fn clear_account(&self, account: &str) {
        let name = normalise_account(account);
        let mut map = self.throttle.lock().expect("throttle lock");
        let keys: Vec<(String, IpAddr)> = map
            .iter()
            .filter(|(k, _)| k.0 == name)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            map.pop(&k);
        }
    }

    /// The accounts some address must currently wait for (for the user list).
    pub fn throttled_accounts(&self, now: DateTime<Utc>) -> std::collections::HashSet<String> {
        let map = self.throttle.lock().expect("throttle lock");
        map.iter()
            .filter(|(_, f)| f.until.is_some_and(|u| u > now))
            .map(|(k, _)| k.0.clone())
            .collect()
    }

    /// Counts a failed login with an unknown name from `addr`. Returns `Some(n)` when an audit
    /// event is due, standing for `n` such failures (this one and those not audited since the
    /// last event of this address); `None` while the address's window is open.
    pub fn unknown_failure(&self, addr: IpAddr, now: DateTime<Utc>) -> Option<u64> {
        let mut map = self.unknown.lock().expect("unknown lock");
        if let Some(w) = map.get_mut(&addr) {
            if now - w.started < self.limits.unknown_window {
                w.suppressed += 1;
                return None;
            }
            let n = w.suppressed + 1;
            *w = UnknownWindow {
                started: now,
                suppressed: 0,
            };
            return Some(n);
        }
        let evicted = map.push(
            addr,
            UnknownWindow {
                started: now,
                suppressed: 0,
            },
        );
        if let Some((old, w)) = evicted.filter(|(_, w)| w.suppressed > 0) {
            tracing::warn!(
                address = %old,
                attempts = w.suppressed,
                "failed logins with unknown usernames dropped from the audit aggregation"
            );
        }
        Some(1)
    }
}

fn throttled(wait: u64) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "LOGIN_THROTTLED",
        format!("用户名或密码错误次数过多,请 {wait} 秒后再试"),
    )
    .retry_after(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
    }

    #[test]
    fn waits_double_after_the_free_failures_and_are_capped() {
        let g = LoginGuard::new(LoginLimits::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut now = t0();
        for _ in 0..4 {
            g.failed("clerk", ip, now);
            assert!(g.check_throttle("clerk", ip, now).is_ok());
        }
        let mut waits = vec![];
        for _ in 0..12 {
            g.failed("Clerk ", ip, now);
            let e = g.check_throttle("clerk", ip, now).unwrap_err();
            waits.push(e.retry_after.unwrap());
            now += Duration::seconds(e.retry_after.unwrap() as i64);
            assert!(g.check_throttle("clerk", ip, now).is_ok());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        // Another address is not affected.
        g.failed("clerk", ip, now);
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(g.check_throttle("clerk", other, now).is_ok());
        g.succeeded("clerk", ip);
        assert!(g.check_throttle("clerk", ip, now).is_ok());
    }

    #[test]
    fn tracked_entries_are_bounded() {
        let g = LoginGuard::new(LoginLimits {
            tracked: 100,
            ..LoginLimits::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..10_000 {
            g.failed(&format!("guess{i}"), ip, t0());
        }
        assert_eq!(g.throttle.lock().unwrap().len(), 100);
    }

    #[test]
    fn unknown_names_are_audited_once_per_window() {
        let g = LoginGuard::new(LoginLimits::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(g.unknown_failure(ip, t0()), Some(1));
        for _ in 0..99 {
            assert_eq!(g.unknown_failure(ip, t0() + Duration::minutes(1)), None);
        }
        assert_eq!(
            g.unknown_failure(ip, t0() + Duration::minutes(11)),
            Some(100)
        );
    }
}
