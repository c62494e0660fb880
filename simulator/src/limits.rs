//! A site's request-rate limit in time, as Jira Cloud's burst limit behaves: a bucket of R
//! requests refilled at R per second. A request that finds it empty opens a window of one
//! second (its `Retry-After`); every request arriving before the window ends is refused
//! again with what is left of it, so a client that does not wait keeps getting 429s.

use std::time::{Duration, Instant};

pub(crate) struct RateLimit {
    per_second: f64,
    tokens: f64,
    refilled_at: Instant,
    blocked_until: Option<Instant>,
    /// Windows opened (first 429 of each) and requests refused in all.
    pub(crate) windows: u64,
    pub(crate) refused: u64,
    /// Requests that arrived while a window was open: sent without waiting it out (or
    /// already in flight when the window opened).
    pub(crate) early: u64,
}

/// What the limit says about one request.
pub(crate) enum Admit {
    /// Served; the budget left in the bucket and its size.
    Yes { remaining: u64, limit: u64 },
    /// Refused: wait this long (whole seconds in `Retry-After`, as Jira sends them).
    No { retry_after: Duration },
}

impl RateLimit {
    pub(crate) fn new(per_second: f64) -> RateLimit {
        RateLimit {
            per_second,
            tokens: per_second,
            refilled_at: Instant::now(),
            blocked_until: None,
            windows: 0,
            refused: 0,
            early: 0,
        }
    }

    /// The limit, in requests per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.per_second
    }

    pub(crate) fn admit(&mut self) -> Admit {
        let now = Instant::now();
        if let Some(until) = self.blocked_until {
            if now < until {
                self.refused += 1;
                self.early += 1;
                return Admit::No {
                    retry_after: until - now,
                };
            }
            self.blocked_until = None;
        }
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Admit::Yes {
                remaining: self.tokens as u64,
                limit: self.per_second.ceil() as u64,
            };
        }
        let window = Duration::from_secs(1);
        self.blocked_until = Some(now + window);
        self.windows += 1;
        self.refused += 1;
        Admit::No {
            retry_after: window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_bucket_refuses_until_its_window_ends() {
        let mut limit = RateLimit::new(3.0);
        for _ in 0..3 {
            assert!(matches!(limit.admit(), Admit::Yes { .. }));
        }
        assert!(
            matches!(limit.admit(), Admit::No { retry_after } if retry_after == Duration::from_secs(1))
        );
        // Asking again at once: refused, with what is left of the window.
        assert!(
            matches!(limit.admit(), Admit::No { retry_after } if retry_after <= Duration::from_secs(1))
        );
        assert_eq!((limit.windows, limit.refused, limit.early), (1, 2, 1));
        std::thread::sleep(Duration::from_millis(1050));
        assert!(matches!(limit.admit(), Admit::Yes { .. }));
    }
}
