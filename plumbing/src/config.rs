//! Configuration shared by every service, from `SLUICE_*` environment variables with defaults
//! for a local run. Passed explicitly: tests run several configurations side by side.

use std::time::Duration;

/// A configuration value that could not be used; names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

#[derive(Clone)]
pub struct CommonConfig {
    /// PostgreSQL URL (`SLUICE_DATABASE_URL`, else `DATABASE_URL`).
    /// Default `postgres://sluice:sluice@127.0.0.1:5432/sluice`.
    pub database_url: String,
    /// RabbitMQ URL (`SLUICE_AMQP_URL`). Default `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub amqp_url: String,
    /// Prefix of every queue and exchange name (`SLUICE_QUEUE_PREFIX`), so several
    /// deployments (or test runs) can share one broker. Default empty.
    pub queue_prefix: String,
    /// The orchestrator's internal endpoint workers report progress to (`SLUICE_PROGRESS_URL`).
    /// Default `http://127.0.0.1:50061`.
    pub progress_url: String,
    /// Connectors gRPC endpoint (internal) the orchestrator calls (`SLUICE_CONNECTORS_URL`).
    /// Default `http://127.0.0.1:50052`.
    pub connectors_url: String,
    /// The token internal calls between services carry (`SLUICE_INTERNAL_TOKEN`, at least 16
    /// characters, the same for every service; `sluice all` makes one up when unset). Never
    /// printed.
    pub internal_token: String,
    /// Unacknowledged messages a consumer may hold (`SLUICE_PREFETCH`). Default 8.
    pub prefetch: u16,
    /// Consumers per queue in one process (`SLUICE_CONSUMERS`). Default 2.
    pub consumers: usize,
    /// Maximum PostgreSQL connections per service (`SLUICE_DB_MAX_CONNECTIONS`). Default 10.
    pub db_max_connections: u32,
    /// How long start-up keeps retrying PostgreSQL and RabbitMQ (`SLUICE_CONNECT_TIMEOUT_SECS`). Default 30.
    pub connect_timeout: Duration,
    /// Delays between retries of a message that failed for a reason that may pass
    /// (`SLUICE_RETRY_DELAYS_MS`, comma-separated; default 1000,5000,30000,120000,600000).
    pub retry_delays: Vec<Duration>,
    /// Retries before a message goes to `etl.failed` (`SLUICE_MAX_RETRIES`). Default 5.
    pub max_retries: u32,
}

impl std::fmt::Debug for CommonConfig {
    // URLs may carry passwords: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommonConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("amqp_url", &redact_url(&self.amqp_url))
            .field("queue_prefix", &self.queue_prefix)
            .field("progress_url", &self.progress_url)
            .field("connectors_url", &self.connectors_url)
            .field("prefetch", &self.prefetch)
            .field("consumers", &self.consumers)
            .field("retry_delays", &self.retry_delays)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl Default for CommonConfig {
    fn default() -> Self {
        CommonConfig {
            database_url: "postgres://sluice:sluice@127.0.0.1:5432/sluice".into(),
            amqp_url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            queue_prefix: String::new(),
            progress_url: "http://127.0.0.1:50061".into(),
            internal_token: String::new(),
            connectors_url: "http://127.0.0.1:50052".into(),
            prefetch: 8,
            consumers: 2,
            db_max_connections: 10,
            connect_timeout: Duration::from_secs(30),
            retry_delays: crate::amqp::DEFAULT_RETRY_DELAYS.to_vec(),
            max_retries: crate::amqp::DEFAULT_MAX_RETRIES,
        }
    }
}

impl CommonConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = CommonConfig::default();
        Ok(CommonConfig {
            database_url: env_string("SLUICE_DATABASE_URL")
                .or_else(|| env_string("DATABASE_URL"))
                .unwrap_or(defaults.database_url),
            amqp_url: env_string("SLUICE_AMQP_URL").unwrap_or(defaults.amqp_url),
            queue_prefix: env_string("SLUICE_QUEUE_PREFIX").unwrap_or_default(),
            progress_url: env_string("SLUICE_PROGRESS_URL").unwrap_or(defaults.progress_url),
            internal_token: env_string("SLUICE_INTERNAL_TOKEN").unwrap_or_default(),
            connectors_url: env_string("SLUICE_CONNECTORS_URL").unwrap_or(defaults.connectors_url),
            prefetch: env_parse("SLUICE_PREFETCH", defaults.prefetch, |v| *v > 0)?,
            consumers: env_parse("SLUICE_CONSUMERS", defaults.consumers, |v| *v > 0)?,
            db_max_connections: env_parse(
                "SLUICE_DB_MAX_CONNECTIONS",
                defaults.db_max_connections,
                |v| *v > 0,
            )?,
            connect_timeout: Duration::from_secs(env_parse(
                "SLUICE_CONNECT_TIMEOUT_SECS",
                defaults.connect_timeout.as_secs(),
                |_| true,
            )?),
            retry_delays: match env_string("SLUICE_RETRY_DELAYS_MS") {
                None => defaults.retry_delays,
                Some(raw) => parse_delays(&raw).map_err(|problem| ConfigError {
                    variable: "SLUICE_RETRY_DELAYS_MS",
                    problem,
                })?,
            },
            max_retries: env_parse("SLUICE_MAX_RETRIES", defaults.max_retries, |_| true)?,
        })
    }

    /// The internal-call credentials, or an error naming `SLUICE_INTERNAL_TOKEN`.
    pub fn internal_auth(&self) -> Result<crate::internal::InternalAuth, ConfigError> {
        crate::internal::InternalAuth::new(&self.internal_token).map_err(|problem| ConfigError {
            variable: "SLUICE_INTERNAL_TOKEN",
            problem,
        })
    }

    /// The queue topology of this deployment (prefix and retry policy).
    pub fn topology(&self) -> crate::amqp::Topology {
        crate::amqp::Topology::new(&self.queue_prefix)
            .with_retries(self.retry_delays.clone(), self.max_retries)
    }
}

/// `"1000, 5000"` → delays in milliseconds, each at least 1.
fn parse_delays(raw: &str) -> Result<Vec<Duration>, String> {
    raw.split(',')
        .map(|part| match part.trim().parse::<u64>() {
            Ok(ms) if ms >= 1 => Ok(Duration::from_millis(ms)),
            Ok(_) => Err(format!("delays must be at least 1 ms, got {part:?}")),
            Err(_) => Err(format!("{part:?} is not a number of milliseconds")),
        })
        .collect()
}

/// An on/off variable (`on`/`off`, `true`/`false`, `1`/`0`), or `default` when unset;
/// anything else is an error naming the variable.
pub fn env_flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env_string(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("on" | "true" | "1") => Ok(true),
        Some("off" | "false" | "0") => Ok(false),
        Some(other) => Err(ConfigError {
            variable: name,
            problem: format!("{other:?} is not on or off"),
        }),
    }
}

/// A non-empty environment variable.
pub fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Parses a variable, or returns the default when unset; an unparsable or rejected value is an error.
pub fn env_parse<T: std::str::FromStr + std::fmt::Display>(
    name: &'static str,
    default: T,
    valid: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    match env_string(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<T>() {
            Ok(value) if valid(&value) => Ok(value),
            Ok(value) => Err(ConfigError {
                variable: name,
                problem: format!("{value} is out of range"),
            }),
            Err(_) => Err(ConfigError {
                variable: name,
                problem: format!("cannot parse {raw:?}"),
            }),
        },
    }
}

/// Hides the password of `scheme://user:password@host/...`. The user info ends at the
/// authority's last `@` (a password may itself contain `@`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_with_at_signs_are_hidden_whole() {
        assert_eq!(
            redact_url("amqp://guest:p@ss@word@rabbit:5672/%2f"),
            "amqp://guest:***@rabbit:5672/%2f"
        );
        assert_eq!(
            redact_url("postgres://u:pw@db/x?opt=a@b"),
            "postgres://u:***@db/x?opt=a@b"
        );
        assert_eq!(redact_url("http://host/path"), "http://host/path");
    }

    #[test]
    fn retry_delays_parse_or_name_the_bad_part() {
        assert_eq!(
            parse_delays("100, 2000").unwrap(),
            vec![Duration::from_millis(100), Duration::from_millis(2000)]
        );
        assert!(parse_delays("100,soon").unwrap_err().contains("\"soon\""));
        assert!(parse_delays("0").unwrap_err().contains("at least 1 ms"));
    }

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://sluice:hunter2@db:5432/sluice"),
            "postgres://sluice:***@db:5432/sluice"
        );
        assert_eq!(redact_url("http://host:1"), "http://host:1");
        let debug = format!(
            "{:?}",
            CommonConfig {
                amqp_url: "amqp://u:topsecret@h".into(),
                ..CommonConfig::default()
            }
        );
        assert!(!debug.contains("topsecret"), "{debug}");
    }
}
