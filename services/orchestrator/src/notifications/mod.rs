//! Alerts that reach people: per-tenant notification channels (a signed webhook, a Slack
//! incoming webhook), an outbox of deliveries written in the transaction of the change each
//! event reports, and a dispatcher that POSTs them at least once, with retries.
//!
//! * `channels` — the channels, their URL and secret sealed with the credentials key.
//! * `outbox` — events recorded as `notification_deliveries` rows; the delivery log.
//! * `dispatch` — the loop claiming due deliveries (`FOR UPDATE SKIP LOCKED`: any number of
//!   orchestrators) and recording each attempt.
//! * `format` — the bodies: the event as JSON (signed) or a Slack message.

mod channels;
mod dispatch;
mod format;
mod outbox;
mod service;

use std::time::Duration;

use sluice_plumbing::config::env_parse;
use sluice_proto::v1 as pb;

pub use dispatch::dispatch_loop;
pub use format::{signature, slack_escape};
pub use outbox::{record_job_event, record_run_event};

/// The dispatcher's settings.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// Attempts per delivery before it is FAILED (`SLUICE_NOTIFY_MAX_ATTEMPTS`, default 8).
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles with each attempt, with jitter
    /// (`SLUICE_NOTIFY_RETRY_BASE_MS`, default 1000).
    pub retry_base: Duration,
    /// The longest wait between two attempts (10 minutes).
    pub max_retry_delay: Duration,
    /// How long a receiver has to answer (10 s); no answer is a failed attempt.
    pub timeout: Duration,
    /// How often due deliveries and dead-letter thresholds are looked at
    /// (`SLUICE_NOTIFY_POLL_MS`, default 1000).
    pub poll_interval: Duration,
    /// Delivered and failed deliveries are kept this long in the log (30 days).
    pub retention: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            max_attempts: 8,
            retry_base: Duration::from_millis(1000),
            max_retry_delay: Duration::from_secs(600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(1000),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl NotifyConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let defaults = NotifyConfig::default();
        Ok(NotifyConfig {
            max_attempts: env_parse("SLUICE_NOTIFY_MAX_ATTEMPTS", defaults.max_attempts, |v| {
                (1..=100).contains(v)
            })?,
            retry_base: Duration::from_millis(env_parse(
                "SLUICE_NOTIFY_RETRY_BASE_MS",
                defaults.retry_base.as_millis() as u64,
                |v| (1..=600_000).contains(v),
            )?),
            poll_interval: Duration::from_millis(env_parse(
                "SLUICE_NOTIFY_POLL_MS",
                defaults.poll_interval.as_millis() as u64,
                |v| (10..=60_000).contains(v),
            )?),
            ..defaults
        })
    }

    /// The wait after failed attempt number `attempts` (1-based): base × 2^(attempts−1),
    /// capped, then between half and all of it (jitter spreads a burst of retries).
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self
            .retry_base
            .saturating_mul(1u32 << exponent)
            .min(self.max_retry_delay);
        full.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}

/// What a notification reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    RunFailed,
    JobGaveUp,
    JobSkipped,
    DeadLettersOverThreshold,
    Test,
}

impl Event {
    /// The events a channel can subscribe to (TEST is sent on request only).
    pub const SUBSCRIBABLE: [Event; 4] = [
        Event::RunFailed,
        Event::JobGaveUp,
        Event::JobSkipped,
        Event::DeadLettersOverThreshold,
    ];

    /// As stored, sent in `X-Sluice-Event` and the payload's `event`.
    pub fn name(self) -> &'static str {
        match self {
            Event::RunFailed => "RUN_FAILED",
            Event::JobGaveUp => "JOB_GAVE_UP",
            Event::JobSkipped => "JOB_SKIPPED",
            Event::DeadLettersOverThreshold => "DEAD_LETTERS_OVER_THRESHOLD",
            Event::Test => "TEST",
        }
    }

    pub fn from_name(name: &str) -> Option<Event> {
        [Event::Test]
            .into_iter()
            .chain(Event::SUBSCRIBABLE)
            .find(|e| e.name() == name)
    }

    pub fn to_proto(self) -> pb::NotificationEvent {
        match self {
            Event::RunFailed => pb::NotificationEvent::RunFailed,
            Event::JobGaveUp => pb::NotificationEvent::JobGaveUp,
            Event::JobSkipped => pb::NotificationEvent::JobSkipped,
            Event::DeadLettersOverThreshold => pb::NotificationEvent::DeadLettersOverThreshold,
            Event::Test => pb::NotificationEvent::Test,
        }
    }

    fn from_proto(event: pb::NotificationEvent) -> Option<Event> {
        match event {
            pb::NotificationEvent::RunFailed => Some(Event::RunFailed),
            pb::NotificationEvent::JobGaveUp => Some(Event::JobGaveUp),
            pb::NotificationEvent::JobSkipped => Some(Event::JobSkipped),
            pb::NotificationEvent::DeadLettersOverThreshold => {
                Some(Event::DeadLettersOverThreshold)
            }
            pb::NotificationEvent::Test => Some(Event::Test),
            pb::NotificationEvent::Unspecified => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_with_jitter_up_to_the_cap() {
        let config = NotifyConfig::default();
        for attempts in 1..=12 {
            let full = (config.retry_base * 2u32.pow(attempts - 1)).min(config.max_retry_delay);
            let delay = config.retry_delay(attempts);
            assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
        }
        assert!(config.retry_delay(1000) <= Duration::from_secs(600));
    }

    #[test]
    fn event_names_round_trip() {
        for event in Event::SUBSCRIBABLE.into_iter().chain([Event::Test]) {
            assert_eq!(Event::from_name(event.name()), Some(event));
            assert_eq!(Event::from_proto(event.to_proto()), Some(event));
        }
        assert_eq!(Event::from_name("run_failed"), None);
    }
}
