//! Incremental cursors per scope. A scope is what one source query covers: a Jira project
//! (`jira.project:KEY`) or a GitHub repository (`github.repo:ID`). The orchestrator hands
//! each run the cursors its job's scopes reached (`ExtractRequest.scope_cursors`); the
//! connector tags every page whose rows advance a cursor with its scope; when the run
//! completes, each scope's cursor moves to the newest `updated` that scope's loaded pages
//! committed (see the orchestrator's `runs::settle`).
//!
//! Why per scope and not one per job: a run fetches its projects at different times. With a
//! single cursor, a change made in project A after A was fetched, followed by a later-fetched
//! project Z bringing a newer `updated`, would start the next run past A's change.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

/// The scope of one Jira project's issue search.
pub fn jira_project(key: &str) -> String {
    format!("jira.project:{key}")
}

/// The scope of one GitHub repository's pull requests and comments.
pub fn github_repo(id: i64) -> String {
    format!("github.repo:{id}")
}

/// The cursors a run starts from, by scope.
#[derive(Debug, Clone, Default)]
pub struct ScopeCursors {
    cursors: HashMap<String, DateTime<Utc>>,
}

impl ScopeCursors {
    /// From `ExtractRequest.scope_cursors`; an unreadable value counts as no cursor (that
    /// scope is synced in full, which is always safe).
    pub fn from_request(map: &HashMap<String, String>) -> Self {
        ScopeCursors {
            cursors: map
                .iter()
                .filter_map(|(scope, at)| {
                    DateTime::parse_from_rfc3339(at)
                        .ok()
                        .map(|at| (scope.clone(), at.with_timezone(&Utc)))
                })
                .collect(),
        }
    }

    pub fn get(&self, scope: &str) -> Option<DateTime<Utc>> {
        self.cursors.get(scope).copied()
    }

    /// For `ExtractRequest.scope_cursors`, millisecond precision.
    pub fn to_request(rows: &[(String, DateTime<Utc>)]) -> HashMap<String, String> {
        rows.iter()
            .map(|(scope, at)| {
                (
                    scope.clone(),
                    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                )
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.cursors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cursors.is_empty()
    }

    pub fn as_map(&self) -> BTreeMap<&str, DateTime<Utc>> {
        self.cursors.iter().map(|(k, v)| (k.as_str(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_unreadable_ones_mean_a_full_sync() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut map = ScopeCursors::to_request(&[(jira_project("ENG"), at)]);
        map.insert(github_repo(7), "not a time".into());
        let cursors = ScopeCursors::from_request(&map);
        assert_eq!(cursors.get("jira.project:ENG"), Some(at));
        assert_eq!(cursors.get("github.repo:7"), None);
        assert_eq!(cursors.len(), 1);
    }
}
