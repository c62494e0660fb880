//! State shared by every request of a GitHub simulator: the dataset and its pre-rendered
//! pieces, counters, per-token rate-limit budgets of each resource (`core` for REST, `graphql`
//! for GraphQL points), secondary limits (armed and in time), latency, armed GraphQL errors,
//! and the changes made by `bump_updated` and `edit_comments`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};

use axum::http::HeaderValue;
use tokio::sync::watch;

use super::GithubSimulatorConfig;
use super::dataset::{Data, Generated};
use super::generate::{Child, bumped, child_ordinal, child_times, salt, time_id};
use super::render::Root;
use super::secondary::Secondary;
use crate::rng::{Rng, hash};
use crate::time::now_ms;

/// A primary rate limit's resource, as `x-ratelimit-resource` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Resource {
    /// REST requests.
    Core,
    /// GraphQL points.
    Graphql,
}

impl Resource {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

/// A token's primary budget.
#[derive(Clone, Copy, Debug)]
struct Budget {
    remaining: u32,
    /// When the window ends and the budget refills (epoch milliseconds).
    reset_ms: i64,
}

/// What the rate-limit headers report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateView {
    pub(crate) resource: Resource,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Epoch seconds.
    pub(crate) reset: i64,
}

impl RateView {
    pub(crate) fn used(&self) -> u32 {
        self.limit.saturating_sub(self.remaining)
    }
}

/// One issue comment added by `bump_updated`.
#[derive(Clone, Debug)]
pub(crate) struct Extra {
    pub(crate) r: usize,
    pub(crate) k: usize,
    pub(crate) id: u64,
    pub(crate) at: i64,
    pub(crate) user: u8,
    pub(crate) body: usize,
    /// Set by `edit_comments`.
    pub(crate) edit: Option<Edit>,
}

impl Extra {
    pub(crate) fn updated(&self) -> i64 {
        self.edit.map_or(self.at, |e| e.at)
    }
}

/// The edits `edit_comments` made to one comment: the last one's time and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) at: i64,
    pub(crate) times: u32,
}

impl Edit {
    /// The body after the edits: " (edited)" appended, with the count from the second on.
    pub(crate) fn body(&self, original: &str) -> String {
        match self.times {
            0 | 1 => format!("{original} (edited)"),
            n => format!("{original} (edited {n})"),
        }
    }
}

/// The mutable part of generated data.
#[derive(Default)]
pub(crate) struct Bumps {
    /// updated_at of bumped pull requests, by (repository, index).
    pub(crate) updated: HashMap<(usize, usize), i64>,
    /// In id order (which is creation order).
    pub(crate) extras: Vec<Extra>,
    pub(crate) by_pr: HashMap<(usize, usize), Vec<usize>>,
    pub(crate) by_repo: HashMap<usize, Vec<usize>>,
    /// Edited generated comments by (kind, repository, pull request index, comment index).
    pub(crate) edits: HashMap<(Child, usize, usize, usize), Edit>,
    /// The same (pull request index, comment index) per (kind, repository).
    pub(crate) edits_by_repo: HashMap<(Child, usize), Vec<(usize, usize)>>,
}

impl Bumps {
    pub(crate) fn pr_updated(&self, r: usize, k: usize, base: i64) -> i64 {
        self.updated.get(&(r, k)).copied().unwrap_or(base)
    }

    pub(crate) fn pr_extras(&self, r: usize, k: usize) -> &[usize] {
        self.by_pr.get(&(r, k)).map_or(&[], Vec::as_slice)
    }

    /// The edits of generated comment `i` (a review or issue comment) of pull request `k`.
    pub(crate) fn edit(&self, child: Child, r: usize, k: usize, i: usize) -> Option<Edit> {
        if self.edits.is_empty() {
            return None;
        }
        self.edits.get(&(child, r, k, i)).copied()
    }

    pub(crate) fn repo_edits(&self, child: Child, r: usize) -> &[(usize, usize)] {
        self.edits_by_repo
            .get(&(child, r))
            .map_or(&[], Vec::as_slice)
    }

    fn note_edit(&mut self, child: Child, r: usize, k: usize, i: usize, now: i64) {
        let edit = self
            .edits
            .entry((child, r, k, i))
            .or_insert(Edit { at: now, times: 0 });
        edit.at = now;
        edit.times += 1;
        if edit.times == 1 {
            self.edits_by_repo
                .entry((child, r))
                .or_default()
                .push((k, i));
        }
    }
}

/// Sort key of one comment in a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CommentKey {
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) id: u64,
    pub(crate) item: CommentRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommentRef {
    /// Generated child `i` of pull request `k` of repository `r`.
    Generated { r: u32, k: u32, i: u32 },
    /// Index into `Bumps::extras`.
    Extra(usize),
    /// Index into a recorded list.
    Recorded(u32),
}

/// A repository's comments of one kind in creation (= id) order, and the same keys in
/// updated order as a permutation.
pub(crate) struct CommentIndex {
    pub(crate) by_created: Vec<CommentKey>,
    pub(crate) by_updated: Vec<u32>,
}

pub(crate) struct RepoIndex {
    pub(crate) review_comments: CommentIndex,
    pub(crate) issue_comments: CommentIndex,
}

pub(crate) struct GhShared {
    pub(crate) data: Data,
    pub(crate) tokens: Vec<String>,
    pub(crate) rate_limit: u32,
    pub(crate) graphql_rate_limit: u32,
    pub(crate) graphql_node_limit: u64,
    pub(crate) graphql_enabled: bool,
    pub(crate) window_ms: i64,
    pub(crate) max_per_page: usize,
    pub(crate) scopes: HeaderValue,
    pub(crate) base_url: String,
    /// Rendering roots: 0 = github.com-style paths, 1 = GitHub Enterprise Server's /api/v3.
    pub(crate) roots: [Root; 2],
    pub(crate) shutdown: watch::Sender<bool>,
    counts: Mutex<BTreeMap<String, u64>>,
    counted: AtomicU64,
    not_modified: AtomicU64,
    budgets: Mutex<HashMap<(Resource, String), Budget>>,
    /// Armed secondary limits: (requests left, retry-after seconds).
    secondary: Mutex<VecDeque<(u32, Option<u64>)>>,
    /// Secondary limits in time.
    pub(crate) limits: Secondary,
    /// Armed GraphQL errors: (queries left, type, message).
    graphql_errors: Mutex<VecDeque<(u32, String, String)>>,
    graphql_points: AtomicU64,
    graphql_queries: AtomicU64,
    latency_ms: AtomicU64,
    /// Origin Link headers point to instead of the simulator's own (a misbehaving server).
    link_origin: Mutex<Option<String>>,
    bumps: RwLock<Bumps>,
    bump_seq: AtomicU64,
    repo_index: Vec<OnceLock<RepoIndex>>,
    request_seq: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // every guarded value is a plain collection, consistent after any panic
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl GhShared {
    pub(crate) fn new(config: GithubSimulatorConfig, base_url: String) -> GhShared {
        let data = config.dataset.data;
        let roots = [
            Root::new(&data, base_url.clone(), "https://github.com".into()),
            Root::new(&data, format!("{base_url}/api/v3"), base_url.clone()),
        ];
        let repos = match &data {
            Data::Generated(g) => g.repos.len(),
            Data::Fixtures(_) => 0,
        };
        GhShared {
            scopes: HeaderValue::from_str(&config.scopes)
                .unwrap_or_else(|_| HeaderValue::from_static("")),
            tokens: config.tokens,
            rate_limit: config.rate_limit,
            graphql_rate_limit: config.graphql_rate_limit,
            graphql_node_limit: config.graphql_node_limit,
            graphql_enabled: config.graphql,
            window_ms: i64::try_from(config.window.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
            max_per_page: config.max_per_page.max(1),
            data,
            base_url,
            roots,
            shutdown: watch::channel(false).0,
            counts: Mutex::new(BTreeMap::new()),
            counted: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            budgets: Mutex::new(HashMap::new()),
            secondary: Mutex::new(VecDeque::new()),
            limits: Secondary::new(config.secondary),
            graphql_errors: Mutex::new(VecDeque::new()),
            graphql_points: AtomicU64::new(0),
            graphql_queries: AtomicU64::new(0),
            latency_ms: AtomicU64::new(0),
            link_origin: Mutex::new(None),
            bumps: RwLock::new(Bumps::default()),
            bump_seq: AtomicU64::new(0),
            repo_index: (0..repos).map(|_| OnceLock::new()).collect(),
            request_seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn link_origin(&self) -> Option<String> {
        lock(&self.link_origin).clone()
    }

    pub(crate) fn set_link_origin(&self, origin: Option<String>) {
        *lock(&self.link_origin) = origin;
    }

    pub(crate) fn record(&self, endpoint: &str) {
        *lock(&self.counts).entry(endpoint.to_owned()).or_insert(0) += 1;
    }

    pub(crate) fn count(&self, endpoint: &str) -> u64 {
        lock(&self.counts).get(endpoint).copied().unwrap_or(0)
    }

    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    pub(crate) fn counted_calls(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    pub(crate) fn not_modified_count(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    pub(crate) fn note_not_modified(&self) {
        self.not_modified.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reset_counts(&self) {
        lock(&self.counts).clear();
        self.counted.store(0, Ordering::Relaxed);
        self.not_modified.store(0, Ordering::Relaxed);
        self.graphql_points.store(0, Ordering::Relaxed);
        self.graphql_queries.store(0, Ordering::Relaxed);
        self.limits.reset_refusals();
    }

    pub(crate) fn graphql_points_spent(&self) -> u64 {
        self.graphql_points.load(Ordering::Relaxed)
    }

    pub(crate) fn note_graphql_query(&self) {
        self.graphql_queries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn graphql_query_count(&self) -> u64 {
        self.graphql_queries.load(Ordering::Relaxed)
    }

    pub(crate) fn next_request_id(&self) -> u64 {
        self.request_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn limit(&self, resource: Resource) -> u32 {
        match resource {
            Resource::Core => self.rate_limit,
            Resource::Graphql => self.graphql_rate_limit,
        }
    }

    /// The budget of `token` for `resource` now: refilled if its window has ended, started
    /// (full) for a token never seen.
    fn current(
        &self,
        budgets: &mut HashMap<(Resource, String), Budget>,
        resource: Resource,
        token: &str,
        now: i64,
    ) -> Budget {
        let fresh = Budget {
            remaining: self.limit(resource),
            reset_ms: now + self.window_ms,
        };
        let budget = budgets.entry((resource, token.to_owned())).or_insert(fresh);
        if now >= budget.reset_ms {
            *budget = fresh;
        }
        *budget
    }

    fn view(&self, resource: Resource, budget: Budget) -> RateView {
        RateView {
            resource,
            limit: self.limit(resource),
            remaining: budget.remaining,
            // the reset second is the first whole second at or after the window's end
            reset: (budget.reset_ms + 999).div_euclid(1000),
        }
    }

    /// What the headers report for `token`'s `resource` without spending anything.
    pub(crate) fn rate_view(&self, resource: Resource, token: &str) -> RateView {
        let mut budgets = lock(&self.budgets);
        let budget = self.current(&mut budgets, resource, token, now_ms());
        self.view(resource, budget)
    }

    /// Spends `points` of `token`'s `resource` budget: Ok with the budget after it, or Err
    /// (spending nothing) when fewer are left.
    pub(crate) fn spend(
        &self,
        resource: Resource,
        token: &str,
        points: u32,
    ) -> Result<RateView, RateView> {
        let mut budgets = lock(&self.budgets);
        let budget = self.current(&mut budgets, resource, token, now_ms());
        if budget.remaining == 0 || budget.remaining < points {
            return Err(self.view(resource, budget));
        }
        let entry = budgets
            .entry((resource, token.to_owned()))
            .or_insert(budget);
        entry.remaining -= points;
        let after = *entry;
        drop(budgets);
        match resource {
            Resource::Core => {
                self.counted.fetch_add(u64::from(points), Ordering::Relaxed);
            }
            Resource::Graphql => {
                self.graphql_points
                    .fetch_add(u64::from(points), Ordering::Relaxed);
            }
        }
        Ok(self.view(resource, after))
    }

    pub(crate) fn set_remaining(
        &self,
        resource: Resource,
        token: &str,
        remaining: u32,
        reset_in_ms: i64,
    ) {
        lock(&self.budgets).insert(
            (resource, token.to_owned()),
            Budget {
                remaining,
                reset_ms: now_ms() + reset_in_ms,
            },
        );
    }

    pub(crate) fn add_secondary(&self, times: u32, retry_after_secs: Option<u64>) {
        if times > 0 {
            lock(&self.secondary).push_back((times, retry_after_secs));
        }
    }

    /// Uses up one armed secondary limit, if any: Some(retry-after).
    pub(crate) fn take_secondary(&self) -> Option<Option<u64>> {
        let mut armed = lock(&self.secondary);
        let front = armed.front_mut()?;
        front.0 -= 1;
        let retry_after = front.1;
        if front.0 == 0 {
            armed.pop_front();
        }
        Some(retry_after)
    }

    pub(crate) fn add_graphql_error(&self, times: u32, error_type: &str, message: &str) {
        if times > 0 {
            lock(&self.graphql_errors).push_back((
                times,
                error_type.to_owned(),
                message.to_owned(),
            ));
        }
    }

    /// Uses up one armed GraphQL error, if any: Some((type, message)).
    pub(crate) fn take_graphql_error(&self) -> Option<(String, String)> {
        let mut armed = lock(&self.graphql_errors);
        let front = armed.front_mut()?;
        front.0 -= 1;
        let error = (front.1.clone(), front.2.clone());
        if front.0 == 0 {
            armed.pop_front();
        }
        Some(error)
    }

    pub(crate) fn set_latency(&self, millis: u64) {
        self.latency_ms.store(millis, Ordering::Relaxed);
    }

    pub(crate) fn latency(&self) -> u64 {
        self.latency_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn bumps(&self) -> RwLockReadGuard<'_, Bumps> {
        self.bumps.read().unwrap_or_else(|e| e.into_inner())
    }

    /// See `GithubSimulator::bump_updated`.
    pub(crate) fn bump(&self, fraction: f64, seed: u64) -> Vec<(String, u64)> {
        let Data::Generated(g) = &self.data else {
            return Vec::new();
        };
        let now = now_ms().div_euclid(1000);
        let mut bumps = self.bumps.write().unwrap_or_else(|e| e.into_inner());
        let mut touched = Vec::new();
        for (r, k) in bumped(&g.spec, seed, fraction) {
            let seq = self.bump_seq.fetch_add(1, Ordering::Relaxed);
            let mut rng = Rng::new(&[g.spec.seed, seed, seq]);
            let extra = Extra {
                r,
                k,
                id: time_id(now, seq),
                at: now,
                user: super::generate::human(&mut rng),
                body: rng.below(super::generate::ISSUE_COMMENT_BODIES.len()),
                edit: None,
            };
            let index = bumps.extras.len();
            bumps.extras.push(extra);
            bumps.by_pr.entry((r, k)).or_default().push(index);
            bumps.by_repo.entry(r).or_default().push(index);
            bumps.updated.insert((r, k), now);
            touched.push((g.repos[r].full_name.clone(), k as u64 + 1));
        }
        touched.sort();
        touched
    }

    /// See `GithubSimulator::edit_comments`.
    pub(crate) fn edit_comments(&self, fraction: f64, seed: u64) -> Vec<(String, u64)> {
        let Data::Generated(g) = &self.data else {
            return Vec::new();
        };
        let spec = &g.spec;
        let now = now_ms().div_euclid(1000);
        let mut bumps = self.bumps.write().unwrap_or_else(|e| e.into_inner());
        let mut edited = Vec::new();
        // not the pull requests a bump with the same seed picks
        for (r, k) in bumped(spec, hash(&[seed, salt::EDIT]), fraction) {
            let full = &g.repos[r].full_name;
            let mut rng = Rng::new(&[spec.seed, seed, r as u64, k as u64, salt::EDIT]);
            let id_of = |child: Child, i: usize| {
                let times = child_times(spec, &g.prs[r][k], r, k, child);
                time_id(times[i].0, child_ordinal(spec, child, r, k, i))
            };
            // one issue comment: a generated one or one a bump added
            let generated = spec.issue_comments_per_pr;
            let extras = bumps.pr_extras(r, k).to_vec();
            if generated + extras.len() > 0 {
                let pick = rng.below(generated + extras.len());
                if pick < generated {
                    bumps.note_edit(Child::IssueComment, r, k, pick, now);
                    edited.push((full.clone(), id_of(Child::IssueComment, pick)));
                } else {
                    let extra = &mut bumps.extras[extras[pick - generated]];
                    let times = extra.edit.map_or(0, |e| e.times);
                    extra.edit = Some(Edit {
                        at: now,
                        times: times + 1,
                    });
                    edited.push((full.clone(), extra.id));
                }
            }
            if spec.review_comments_per_pr > 0 {
                let pick = rng.below(spec.review_comments_per_pr);
                bumps.note_edit(Child::ReviewComment, r, k, pick, now);
                edited.push((full.clone(), id_of(Child::ReviewComment, pick)));
            }
        }
        edited.sort();
        edited
    }

    /// The comment index of a generated repository, built on first use.
    pub(crate) fn repo_index(&self, g: &Generated, r: usize) -> &RepoIndex {
        self.repo_index[r].get_or_init(|| RepoIndex {
            review_comments: build_index(g, r, Child::ReviewComment),
            issue_comments: build_index(g, r, Child::IssueComment),
        })
    }
}

fn build_index(g: &Generated, r: usize, child: Child) -> CommentIndex {
    let mut by_created = Vec::with_capacity(g.prs[r].len() * child.count(&g.spec));
    for (k, facts) in g.prs[r].iter().enumerate() {
        for (i, (created, updated)) in child_times(&g.spec, facts, r, k, child)
            .into_iter()
            .enumerate()
        {
            by_created.push(CommentKey {
                created,
                updated,
                id: time_id(created, child_ordinal(&g.spec, child, r, k, i)),
                item: CommentRef::Generated {
                    r: r as u32,
                    k: k as u32,
                    i: i as u32,
                },
            });
        }
    }
    by_created.sort_unstable_by_key(|c| (c.created, c.id));
    let mut by_updated: Vec<u32> = (0..by_created.len() as u32).collect();
    by_updated.sort_unstable_by_key(|&i| {
        let c = &by_created[i as usize];
        (c.updated, c.id)
    });
    CommentIndex {
        by_created,
        by_updated,
    }
}
