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
    /// Orchestrator gRPC endpoint workers report progress to (`SLUICE_ORCHESTRATOR_URL`).
    /// Default `http://127.0.0.1:50051`.
    pub orchestrator_url: String,
    /// Connectors gRPC endpoint the orchestrator calls (`SLUICE_CONNECTORS_URL`).
    /// Default `http://127.0.0.1:50052`.
    pub connectors_url: String,
    /// Unacknowledged messages a consumer may hold (`SLUICE_PREFETCH`). Default 8.
    pub prefetch: u16,
    /// Consumers per queue in one process (`SLUICE_CONSUMERS`). Default 2.
    pub consumers: usize,
    /// Maximum PostgreSQL connections per service (`SLUICE_DB_MAX_CONNECTIONS`). Default 10.
    pub db_max_connections: u32,
    /// How long start-up keeps retrying PostgreSQL and RabbitMQ (`SLUICE_CONNECT_TIMEOUT_SECS`). Default 30.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for CommonConfig {
    // URLs may carry passwords: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommonConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("amqp_url", &redact_url(&self.amqp_url))
            .field("queue_prefix", &self.queue_prefix)
            .field("orchestrator_url", &self.orchestrator_url)
            .field("connectors_url", &self.connectors_url)
            .field("prefetch", &self.prefetch)
            .field("consumers", &self.consumers)
            .finish()
    }
}

impl Default for CommonConfig {
    fn default() -> Self {
        CommonConfig {
            database_url: "postgres://sluice:sluice@127.0.0.1:5432/sluice".into(),
            amqp_url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            queue_prefix: String::new(),
            orchestrator_url: "http://127.0.0.1:50051".into(),
            connectors_url: "http://127.0.0.1:50052".into(),
            prefetch: 8,
            consumers: 2,
            db_max_connections: 10,
            connect_timeout: Duration::from_secs(30),
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
            orchestrator_url: env_string("SLUICE_ORCHESTRATOR_URL")
                .unwrap_or(defaults.orchestrator_url),
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
        })
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

/// Hides the password of `scheme://user:password@host/...`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
