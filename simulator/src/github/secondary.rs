//! Secondary rate limits in time, per token, as GitHub documents them: at most
//! `max_concurrent` requests in flight (REST and GraphQL together), and at most so many points
//! per minute for REST and for GraphQL, every request costing one point (a REST GET, or a
//! GraphQL query without mutations).
//!
//! Points are counted in a sliding window: a request is allowed when fewer than the limit of
//! the same resource were allowed in the 60 seconds before it. A request over a limit is
//! refused with `retry-after` = whole seconds until it would be allowed (until the oldest
//! point of the window leaves it; 1 for the concurrency limit), and opens a window of that
//! length during which every request of the token is refused with the seconds left (rounded
//! up, at least 1). Refused requests spend and count nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::SecondaryLimits;
use super::state::Resource;

const MINUTE_MS: i64 = 60_000;
/// `retry-after` of a request refused for the concurrency limit.
const CONCURRENCY_RETRY_SECS: u64 = 1;

#[derive(Default)]
struct TokenState {
    in_flight: u32,
    /// When the allowed REST and GraphQL requests of the last minute arrived (epoch ms).
    rest: VecDeque<i64>,
    graphql: VecDeque<i64>,
    /// End of the token's refusal window (epoch ms; 0 = none).
    blocked_until: i64,
}

pub(crate) struct Secondary {
    limits: SecondaryLimits,
    tokens: Mutex<HashMap<String, TokenState>>,
    /// End of a refusal window for every token (epoch ms; 0 = none).
    everyone_until: Mutex<i64>,
    refusals: AtomicU64,
}

/// A request counted as in flight until dropped.
pub(crate) struct InFlight<'a> {
    secondary: &'a Secondary,
    token: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.secondary.lock().get_mut(&self.token) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

fn retry_secs(ms: i64) -> u64 {
    u64::try_from((ms + 999).div_euclid(1000))
        .unwrap_or(0)
        .max(1)
}

impl Secondary {
    pub(crate) fn new(limits: SecondaryLimits) -> Secondary {
        Secondary {
            limits,
            tokens: Mutex::new(HashMap::new()),
            everyone_until: Mutex::new(0),
            refusals: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, TokenState>> {
        // plain counters and queues, consistent after any panic
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn everyone(&self) -> MutexGuard<'_, i64> {
        self.everyone_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a request of `token` at `now` (epoch ms) spending one point of `resource` (None:
    /// no points, as GET /rate_limit): the in-flight guard, or Err(retry-after seconds).
    pub(crate) fn admit(
        &self,
        token: &str,
        resource: Option<Resource>,
        now: i64,
    ) -> Result<InFlight<'_>, u64> {
        let everyone = *self.everyone();
        let mut tokens = self.lock();
        let state = tokens.entry(token.to_owned()).or_default();
        let blocked = state.blocked_until.max(everyone);
        if now < blocked {
            drop(tokens);
            return Err(self.refuse(retry_secs(blocked - now)));
        }
        let max = self.limits.max_concurrent;
        if max > 0 && state.in_flight >= max {
            state.blocked_until = now + CONCURRENCY_RETRY_SECS as i64 * 1000;
            drop(tokens);
            return Err(self.refuse(CONCURRENCY_RETRY_SECS));
        }
        let window = match resource {
            Some(Resource::Core) => Some((&mut state.rest, self.limits.rest_points_per_minute)),
            Some(Resource::Graphql) => {
                Some((&mut state.graphql, self.limits.graphql_points_per_minute))
            }
            None => None,
        };
        if let Some((points, limit)) = window.filter(|(_, limit)| *limit > 0) {
            while points.front().is_some_and(|&t| t <= now - MINUTE_MS) {
                points.pop_front();
            }
            if points.len() >= limit as usize {
                let oldest = points.front().copied().unwrap_or(now);
                let secs = retry_secs(oldest + MINUTE_MS - now);
                state.blocked_until = now + secs as i64 * 1000;
                drop(tokens);
                return Err(self.refuse(secs));
            }
            points.push_back(now);
        }
        state.in_flight += 1;
        Ok(InFlight {
            secondary: self,
            token: token.to_owned(),
        })
    }

    /// Counts a refusal; returns `retry_after`.
    fn refuse(&self, retry_after: u64) -> u64 {
        self.note_refusal();
        retry_after
    }

    /// Counts a refusal made elsewhere (an armed secondary limit).
    pub(crate) fn note_refusal(&self) {
        self.refusals.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }

    pub(crate) fn reset_refusals(&self) {
        self.refusals.store(0, Ordering::Relaxed);
    }

    /// Opens a refusal window of `length_ms` from `now` for `token`, or for every token.
    pub(crate) fn open_window(&self, token: Option<&str>, now: i64, length_ms: i64) {
        let until = now.saturating_add(length_ms);
        match token {
            Some(token) => {
                self.lock()
                    .entry(token.to_owned())
                    .or_default()
                    .blocked_until = until;
            }
            None => *self.everyone() = until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rest: u32) -> SecondaryLimits {
        SecondaryLimits {
            max_concurrent: 2,
            rest_points_per_minute: rest,
            graphql_points_per_minute: 1,
        }
    }

    #[test]
    fn points_slide_and_refusals_open_windows() {
        let s = Secondary::new(limits(3));
        let t0 = 1_000_000;
        for i in 0..3 {
            drop(
                s.admit("a", Some(Resource::Core), t0 + i * 10_000)
                    .expect("allowed"),
            );
        }
        // the 4th within the minute waits until the first point leaves the window
        assert_eq!(
            s.admit("a", Some(Resource::Core), t0 + 30_000).err(),
            Some(30)
        );
        // during the window everything is refused, even what spends nothing
        assert_eq!(s.admit("a", None, t0 + 30_500).err(), Some(30));
        assert_eq!(
            s.admit("a", Some(Resource::Graphql), t0 + 59_001).err(),
            Some(1)
        );
        // other tokens and resources are not affected
        assert!(s.admit("b", Some(Resource::Core), t0 + 30_000).is_ok());
        // after the window: one point has left the minute
        drop(
            s.admit("a", Some(Resource::Core), t0 + 60_000)
                .expect("allowed"),
        );
        assert_eq!(s.refusals(), 3);
    }

    #[test]
    fn concurrency_and_manual_windows() {
        let s = Secondary::new(limits(0));
        let one = s.admit("a", None, 0).expect("first");
        let two = s.admit("a", Some(Resource::Core), 0).expect("second");
        assert_eq!(s.admit("a", None, 0).err(), Some(1));
        drop((one, two));
        assert_eq!(
            s.admit("a", None, 500).err(),
            Some(1),
            "still in the window"
        );
        assert!(s.admit("a", None, 1_000).is_ok());

        s.open_window(None, 2_000, 1_500);
        assert_eq!(s.admit("z", None, 2_000).err(), Some(2));
        assert_eq!(s.admit("z", None, 3_000).err(), Some(1));
        assert!(s.admit("z", None, 3_500).is_ok());
        s.open_window(Some("z"), 4_000, 10_000);
        assert_eq!(s.admit("z", None, 4_000).err(), Some(10));
        assert!(s.admit("y", None, 4_000).is_ok());

        let off = Secondary::new(SecondaryLimits::off());
        let held: Vec<_> = (0..500)
            .map(|_| {
                off.admit("a", Some(Resource::Graphql), 0)
                    .expect("no limits")
            })
            .collect();
        assert_eq!(held.len(), 500);
    }
}
