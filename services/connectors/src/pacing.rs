//! Adaptive pacing per source site. Instead of one fixed request rate, each site (origin) gets
//! a rate and a concurrency that grow while it answers without throttling and back off when
//! it throttles (429, or 503 with Retry-After): the rate halves, the concurrency halves, and
//! every request to the site waits until the time the site named (Retry-After, Jira's
//! `Beta-Retry-After` or `X-RateLimit-Reset`). Jira's `X-RateLimit-NearLimit: true` stops the
//! growth before a 429 does. An optional ceiling caps the rate.
//!
//! Requests come in two priorities: issue and changelog pages go first; dev-status calls get
//! a slot only while no issue page is waiting for one, so dev status never delays landing
//! issues. One pacer per origin per process, shared by every run against that site.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// The pace never grows past this without a ceiling (requests per second).
const MAX_RATE: f64 = 10_000.0;

/// Which requests go first when both wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Issues, changelogs, metadata: what lands rows.
    Pages,
    /// Dev-status summaries and details: filled in behind the pages.
    DevStatus,
}

/// How a site's pacing starts and where it stops.
#[derive(Debug, Clone, Copy)]
pub struct PacingConfig {
    /// Requests per second at the start (grows from here).
    pub initial_rate: f64,
    /// Hard ceiling in requests per second (`SLUICE_JIRA_MAX_REQUESTS_PER_SECOND`); 0 for
    /// none (the site's own throttling decides).
    pub ceiling: f64,
    /// Requests in flight at the start and at most.
    pub initial_concurrency: usize,
    pub max_concurrency: usize,
}

impl Default for PacingConfig {
    fn default() -> Self {
        PacingConfig {
            initial_rate: 20.0,
            ceiling: 0.0,
            initial_concurrency: 8,
            max_concurrency: 64,
        }
    }
}

/// What a site's pacing did, for the run's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacingStats {
    /// 429 (and 503 with Retry-After) answers received.
    pub throttled: u64,
    /// Time requests spent held by the site's Retry-After, in ms (summed over requests that
    /// waited, so concurrent waits count once each).
    pub waited_ms: u64,
}

struct State {
    config: PacingConfig,
    rate: f64,
    concurrency: usize,
    in_flight: usize,
    /// The earliest start of the next request (rate).
    next_slot: Instant,
    /// No request before this (the site said so).
    paused_until: Instant,
    /// Successes since the last change of rate.
    clean: u32,
    /// Growth stops while the site says it is near its limit.
    near_limit: bool,
    /// Until the first throttle the pace doubles (slow start); after it, grows by a quarter.
    throttled_ever: bool,
    /// When the pace last changed.
    last_change: Instant,
    pages_waiting: usize,
}

/// One site's pacing.
pub struct Pacer {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    throttled: AtomicU64,
    waited_ms: AtomicU64,
}

/// A request's place; dropped when its answer is in.
pub struct Slot<'a> {
    pacer: &'a Pacer,
    /// How long this request was held by the site's own wait (Retry-After).
    pub held: Duration,
}

enum Wait {
    Go(Instant),
    Until(Instant),
    Change,
}

/// Counts a page request as waiting until it gets its slot or gives up (is dropped).
struct PageWaiting<'a>(&'a Pacer, bool);

impl Drop for PageWaiting<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.lock().pages_waiting -= 1;
            self.0.changed.notify_waiters();
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.pacer.lock().in_flight -= 1;
        self.pacer.changed.notify_waiters();
    }
}

impl Pacer {
    pub fn new(config: PacingConfig) -> Pacer {
        let now = Instant::now();
        let rate = if config.ceiling > 0.0 {
            config.initial_rate.min(config.ceiling)
        } else {
            config.initial_rate
        };
        Pacer {
            state: Mutex::new(State {
                config,
                rate,
                concurrency: config
                    .initial_concurrency
                    .clamp(1, config.max_concurrency.max(1)),
                in_flight: 0,
                next_slot: now,
                paused_until: now,
                clean: 0,
                near_limit: false,
                throttled_ever: false,
                last_change: now,
                pages_waiting: 0,
            }),
            changed: tokio::sync::Notify::new(),
            throttled: AtomicU64::new(0),
            waited_ms: AtomicU64::new(0),
        }
    }

    /// The process-wide pacer of a site (by origin): every run against it shares it.
    pub fn for_site(origin: &str, config: PacingConfig) -> Arc<Pacer> {
        static SITES: OnceLock<Mutex<HashMap<String, Arc<Pacer>>>> = OnceLock::new();
        let sites = SITES.get_or_init(Default::default);
        let mut sites = sites.lock().unwrap_or_else(|e| e.into_inner());
        let pacer = sites
            .entry(origin.to_string())
            .or_insert_with(|| Arc::new(Pacer::new(config)));
        // A changed ceiling (configuration) applies to the shared pacer too.
        pacer.lock().config.ceiling = config.ceiling;
        Arc::clone(pacer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot: the site not paused, a free place in the concurrency, the rate's
    /// next start time, and (for dev status) no issue page waiting.
    pub async fn acquire(&self, priority: Priority) -> Slot<'_> {
        let mut waiting = PageWaiting(self, priority == Priority::Pages);
        if waiting.1 {
            self.lock().pages_waiting += 1;
        }
        let mut held_since: Option<Instant> = None;
        let mut held = Duration::ZERO;
        loop {
            // Registered before checking, so no change is missed between the two.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                if now < state.paused_until {
                    held_since.get_or_insert(now);
                    Wait::Until(state.paused_until)
                } else if state.in_flight >= state.concurrency
                    || (priority == Priority::DevStatus && state.pages_waiting > 0)
                {
                    Wait::Change
                } else {
                    if let Some(since) = held_since.take() {
                        held = now.duration_since(since);
                        self.waited_ms
                            .fetch_add(held.as_millis() as u64, Ordering::Relaxed);
                    }
                    let start = state.next_slot.max(now);
                    state.next_slot = start + Duration::from_secs_f64(1.0 / state.rate.max(0.1));
                    state.in_flight += 1;
                    if waiting.1 {
                        state.pages_waiting -= 1;
                        waiting.1 = false;
                    }
                    Wait::Go(start)
                }
            };
            match wait {
                Wait::Go(start) => {
                    // The place is taken: a slot dropped while sleeping gives it back.
                    let mut slot = Slot { pacer: self, held };
                    tokio::time::sleep_until(start).await;
                    // A throttle that arrived while this request waited for its start holds
                    // it too: sent now, it would land inside the site's window and be refused.
                    loop {
                        let until = self.lock().paused_until;
                        let now = Instant::now();
                        if now >= until {
                            return slot;
                        }
                        tokio::time::sleep_until(until).await;
                        let waited = until.duration_since(now);
                        slot.held += waited;
                        self.waited_ms
                            .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
                    }
                }
                Wait::Until(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = changed => {}
                    }
                }
                Wait::Change => changed.await,
            }
        }
    }

    /// A successful answer: the site keeps up, so the pace may grow — doubling until the
    /// site first throttles, then by a quarter — once per rate's worth of clean answers
    /// (about once a second), and only while requests actually come that fast (a run that
    /// asks for 5 requests/s does not push the pace up), unless the site says it is near its
    /// limit.
    pub fn on_success(&self, headers: &HeaderMap) {
        let near = header(headers, "x-ratelimit-nearlimit")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut state = self.lock();
        state.near_limit = near;
        if near {
            // Less than a fifth of the site's budget left: no growth, and ease off a little (a
            // tenth, at most four times a second) before it has to answer 429 — but not below
            // the starting pace: a site that says "near" without ever refusing must not slow
            // a run to a crawl; a 429 still halves the pace below it.
            state.clean = 0;
            let now = Instant::now();
            let floor = state.config.initial_rate.min(state.rate);
            if now.duration_since(state.last_change) >= Duration::from_millis(250) {
                state.rate = (state.rate * 0.9).max(floor).max(0.5);
                state.last_change = now;
            }
            return;
        }
        state.clean += 1;
        if f64::from(state.clean) < state.rate.max(4.0) {
            return;
        }
        let now = Instant::now();
        let busy = now.duration_since(state.last_change) <= Duration::from_secs(2);
        state.clean = 0;
        state.last_change = now;
        if !busy {
            return;
        }
        let grown = if state.throttled_ever {
            state.rate * 1.25
        } else {
            state.rate * 2.0
        };
        state.rate = match state.config.ceiling {
            c if c > 0.0 => grown.min(c),
            _ => grown.min(MAX_RATE),
        };
        state.concurrency = (state.concurrency + state.concurrency / 4 + 1)
            .min(state.config.max_concurrency.max(1));
        drop(state);
        self.changed.notify_waiters();
    }

    /// The site throttled (429, or 503 with a wait): halve the pace (once per episode) and
    /// hold every request for `wait` (what the site named, see [`site_wait`], capped by the
    /// caller).
    pub fn on_throttled(&self, wait: Duration) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let now = Instant::now();
        // Requests already in flight when the site first throttled come back throttled too:
        // one episode (answers arriving while its pause lasts) backs off once, not once per
        // answer (eight answers would take the pace down 256-fold).
        if now >= state.paused_until {
            state.rate = (state.rate / 2.0).max(0.5);
            state.concurrency = (state.concurrency / 2).max(1);
        }
        state.clean = 0;
        state.throttled_ever = true;
        state.last_change = now;
        state.paused_until = state.paused_until.max(now + wait);
        state.next_slot = state.next_slot.max(state.paused_until);
        drop(state);
        self.changed.notify_waiters();
    }

    /// What the site's pacing did so far (every run against the site).
    pub fn stats(&self) -> PacingStats {
        PacingStats {
            throttled: self.throttled.load(Ordering::Relaxed),
            waited_ms: self.waited_ms.load(Ordering::Relaxed),
        }
    }

    /// The pace now (requests per second, in flight at most).
    pub fn pace(&self) -> (f64, usize) {
        let state = self.lock();
        (state.rate, state.concurrency)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The wait a throttling answer asks for: `Retry-After` (seconds or an HTTP date), else
/// Jira's `Beta-Retry-After` (seconds), else `X-RateLimit-Reset` (an ISO 8601 time).
pub fn site_wait(headers: &HeaderMap) -> Option<Duration> {
    let seconds = |name: &str| {
        header(headers, name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    };
    if let Some(wait) = seconds("retry-after") {
        return Some(wait);
    }
    if let Some(at) =
        header(headers, "retry-after").and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
    {
        let ms = at
            .signed_duration_since(chrono::Utc::now())
            .num_milliseconds();
        return Some(Duration::from_millis(ms.max(0) as u64));
    }
    if let Some(wait) = seconds("beta-retry-after") {
        return Some(wait);
    }
    let reset = header(headers, "x-ratelimit-reset")?;
    let at = chrono::DateTime::parse_from_rfc3339(reset)
        .or_else(|_| {
            chrono::DateTime::parse_from_str(&format!("{reset}:00+0000"), "%Y-%m-%dT%H:%MZ:%S%z")
        })
        .ok()?;
    let ms = at
        .signed_duration_since(chrono::Utc::now())
        .num_milliseconds();
    Some(Duration::from_millis(ms.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_wait_comes_from_whichever_header_the_site_sent() {
        assert_eq!(
            site_wait(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            site_wait(&headers(&[("beta-retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
        let wait = site_wait(&headers(&[("x-ratelimit-reset", &soon)])).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(site_wait(&HeaderMap::new()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_grows_while_the_site_keeps_up_and_halves_when_it_throttles() {
        let pacer = Pacer::new(PacingConfig {
            initial_rate: 10.0,
            ceiling: 100.0,
            initial_concurrency: 2,
            max_concurrency: 16,
        });
        for _ in 0..200 {
            let _slot = pacer.acquire(Priority::Pages).await;
            pacer.on_success(&HeaderMap::new());
        }
        let (rate, concurrency) = pacer.pace();
        assert_eq!(rate, 100.0, "grew to the ceiling");
        assert!(concurrency > 2);
        let started = Instant::now();
        pacer.on_throttled(site_wait(&headers(&[("retry-after", "2")])).unwrap());
        assert_eq!(pacer.pace().0, 50.0);
        // Another answer of the same episode (sent before the pause) backs off no further.
        pacer.on_throttled(Duration::from_secs(1));
        assert_eq!(pacer.pace().0, 50.0, "one episode, one back-off");
        let _slot = pacer.acquire(Priority::Pages).await;
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "held until the site's time"
        );
        assert_eq!(pacer.stats().throttled, 2);
        assert!(pacer.stats().waited_ms >= 2000);
        // Near the limit: no growth, and the pace eases off.
        drop(_slot);
        for _ in 0..200 {
            let _slot = pacer.acquire(Priority::Pages).await;
            pacer.on_success(&headers(&[("x-ratelimit-nearlimit", "true")]));
        }
        assert!(pacer.pace().0 < 50.0);
        assert!(
            pacer.pace().0 >= 10.0,
            "a site that only says near never takes the pace below its start"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn dev_status_waits_while_a_page_waits() {
        let pacer = Arc::new(Pacer::new(PacingConfig {
            initial_rate: 1000.0,
            ceiling: 0.0,
            initial_concurrency: 1,
            max_concurrency: 1,
        }));
        let held = pacer.acquire(Priority::Pages).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let dev = {
            let (pacer, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = pacer.acquire(Priority::DevStatus).await;
                order.lock().unwrap().push("dev status");
            })
        };
        tokio::task::yield_now().await;
        let page = {
            let (pacer, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = pacer.acquire(Priority::Pages).await;
                order.lock().unwrap().push("page");
            })
        };
        tokio::task::yield_now().await;
        drop(held);
        page.await.unwrap();
        dev.await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["page", "dev status"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_already_scheduled_waits_out_a_throttle_that_came_meanwhile() {
        let pacer = std::sync::Arc::new(Pacer::new(PacingConfig {
            initial_rate: 1.0,
            ceiling: 0.0,
            initial_concurrency: 4,
            max_concurrency: 4,
        }));
        let started = Instant::now();
        let first = pacer.acquire(Priority::Pages).await;
        // The second's start is a second away (the rate): it sleeps towards it.
        let second = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                let slot = pacer.acquire(Priority::Pages).await;
                (Instant::now(), slot.held)
            })
        };
        tokio::task::yield_now().await;
        pacer.on_throttled(Duration::from_secs(5));
        drop(first);
        let (sent, held) = second.await.unwrap();
        assert!(
            sent.duration_since(started) >= Duration::from_secs(5),
            "sent inside the window"
        );
        assert!(
            held >= Duration::from_secs(3),
            "the hold is counted: {held:?}"
        );
    }
}
