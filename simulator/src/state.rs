//! State shared by every request: the dataset, counters, faults and indexes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde_json::Value;
use tokio::sync::watch;

use crate::dataset::{Dataset, id_of, key_of};
use crate::faults::FaultStore;
use crate::issues::{IssueStore, field_list};
use crate::{SimAuth, SimulatorConfig};

/// Budget advertised in `x-ratelimit-limit`; informational only, nothing is refused.
pub(crate) const RATE_LIMIT: u64 = 1000;

/// Histories Jira Cloud embeds per issue in search results with expand=changelog.
pub(crate) const DEFAULT_EMBEDDED_CHANGELOG: usize = 20;

pub(crate) struct Shared {
    pub(crate) dataset: Dataset,
    pub(crate) auth: SimAuth,
    pub(crate) max_page_size: usize,
    pub(crate) base_url: String,
    pub(crate) faults: FaultStore,
    /// Project id or key to project key.
    pub(crate) project_keys: HashMap<String, String>,
    pub(crate) issue_types_by_id: HashMap<String, Value>,
    pub(crate) issues: IssueStore,
    /// The GET /field answer.
    pub(crate) fields: Vec<Value>,
    /// Site switches, flipped by tests to imitate older or differently configured sites.
    pub(crate) bulk_changelog: AtomicBool,
    pub(crate) new_createmeta: AtomicBool,
    /// JQL `development[…]` clauses: a site without development tools connected (or an old
    /// Jira Server) does not know the field.
    pub(crate) development_search: AtomicBool,
    pub(crate) embedded_changelog_cap: AtomicUsize,
    /// Responses gzip'd for clients that accept it (default on, as Jira Cloud does).
    pub(crate) gzip: AtomicBool,
    /// The site's request-rate limit in time (none by default).
    pub(crate) rate_limit: Mutex<Option<crate::limits::RateLimit>>,
    /// The searching user's profile time zone (its name for `/myself`, its offset east of
    /// UTC in milliseconds): JQL dates written as text are read in it, as Jira does.
    pub(crate) user_zone: Mutex<(String, i64)>,
    pub(crate) shutdown: watch::Sender<bool>,
    counts: Mutex<BTreeMap<String, u64>>,
    budget_used: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: SimulatorConfig, base_url: String) -> Shared {
        let dataset = config.dataset;
        let mut project_keys = HashMap::new();
        for project in &dataset.projects {
            let key = key_of(project);
            project_keys.insert(id_of(project), key.clone());
            project_keys.insert(key.clone(), key);
        }
        let issue_types_by_id = dataset
            .issue_types
            .iter()
            .map(|t| (id_of(t), t.clone()))
            .collect();
        let issues = IssueStore::new(&dataset);
        let fields = field_list(&dataset);
        Shared {
            issues,
            fields,
            bulk_changelog: AtomicBool::new(true),
            new_createmeta: AtomicBool::new(true),
            development_search: AtomicBool::new(true),
            embedded_changelog_cap: AtomicUsize::new(DEFAULT_EMBEDDED_CHANGELOG),
            gzip: AtomicBool::new(true),
            rate_limit: Mutex::new(None),
            user_zone: Mutex::new(("UTC".to_string(), 0)),
            dataset,
            auth: config.auth,
            max_page_size: config.max_page_size,
            base_url,
            faults: FaultStore::default(),
            project_keys,
            issue_types_by_id,
            shutdown: watch::channel(false).0,
            counts: Mutex::new(BTreeMap::new()),
            budget_used: AtomicU64::new(0),
        }
    }

    /// Counts one request to `endpoint`; returns the rate-limit budget left after it.
    pub(crate) fn record(&self, endpoint: &str) -> u64 {
        *self.lock_counts().entry(endpoint.to_owned()).or_insert(0) += 1;
        let used = self.budget_used.fetch_add(1, Ordering::Relaxed) + 1;
        RATE_LIMIT.saturating_sub(used)
    }

    /// Whether the site's rate limit lets a request through now (`None`: no limit set).
    /// Limits the site to `per_second` requests per second (a positive number), or lifts
    /// the limit; a new limit starts with a full bucket.
    pub(crate) fn set_rate_limit(&self, per_second: Option<f64>) {
        *self.rate_limit.lock().unwrap_or_else(|e| e.into_inner()) =
            per_second.map(crate::limits::RateLimit::new);
    }

    /// The limit in force, in requests per second.
    pub(crate) fn rate_limit_per_second(&self) -> Option<f64> {
        self.rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|l| l.per_second())
    }

    pub(crate) fn admit(&self) -> Option<crate::limits::Admit> {
        self.rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .map(|limit| limit.admit())
    }

    pub(crate) fn user_zone(&self) -> (String, i64) {
        self.user_zone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn count(&self, endpoint: &str) -> u64 {
        self.lock_counts().get(endpoint).copied().unwrap_or(0)
    }

    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        self.lock_counts().clone()
    }

    /// Clears the counters and refills the rate-limit budget.
    pub(crate) fn reset_counts(&self) {
        self.lock_counts().clear();
        self.budget_used.store(0, Ordering::Relaxed);
    }

    fn lock_counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}
