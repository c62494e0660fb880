//! The issues a running simulator serves: fixed catalogue plus the small mutable part
//! (bump times and deletions), and the search index over both.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use super::facts::{self, Issue};
use super::fixture::{FixtureIssue, load_fixture_issues};
use super::out::Out;
use super::render::{issue_json, light_json};
use super::select::FieldSel;
use super::site::{GENERATED_ID_BASE, Site};
use crate::dataset::Dataset;
use crate::jql::{Clause, DevField, Query, SortField, TimeField};
use crate::rng::hash;
use crate::time::now_ms;

pub(crate) use super::field_defs::DEVELOPMENT_FIELD;
use std::sync::atomic::Ordering;

/// A live or deleted issue: recorded (index into the fixtures) or generated (index g).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IssueRef {
    Fixture(usize),
    Generated(usize),
}

/// A search Jira would reject with 400 and this message.
#[derive(Debug)]
pub(crate) struct SearchError(pub(crate) String);

/// A project JQL can name: a dataset project, or one only recorded issues belong to.
struct KnownProject {
    key: String,
    id: String,
    name: String,
    site_index: Option<usize>,
    fixtures: Vec<usize>,
}

struct State {
    /// By ordinal (fixtures first, then generated).
    deleted: Vec<bool>,
    /// Bump times of generated issues that were bumped.
    bumps: HashMap<usize, Vec<i64>>,
    /// Changes on every bump or deletion; cached searches are only valid for one value.
    generation: u64,
    /// Field values a test set on generated issues (replacing what they would render).
    overrides: HashMap<usize, Vec<(String, serde_json::Value)>>,
    /// Pull requests linked to generated issues later (their `updated` kept).
    linked: HashMap<usize, Vec<super::devinfo::LinkedPr>>,
}

struct Cached {
    jql: String,
    generation: u64,
    ordinals: Arc<Vec<u32>>,
}

const CACHED_SEARCHES: usize = 8;

pub(crate) struct IssueStore {
    pub(crate) site: Site,
    pub(crate) fixtures: Vec<FixtureIssue>,
    known: Vec<KnownProject>,
    /// Fixture id and upper-cased key to fixture index.
    fixture_index: HashMap<String, usize>,
    /// Upper-cased key of each site project to its index.
    site_projects: HashMap<String, usize>,
    created: Vec<i64>,
    base_updated: Vec<i64>,
    /// Rank of each site project's key and each fixture's key prefix, for `ORDER BY key`.
    project_rank: Vec<u64>,
    fixture_rank: Vec<u64>,
    state: RwLock<State>,
    cache: Mutex<VecDeque<Cached>>,
    /// Whether issues carry the Development field (Jira Cloud does; Server and Data Center
    /// do not), and /field lists it.
    pub(crate) development_field: std::sync::atomic::AtomicBool,
}

impl IssueStore {
    pub(crate) fn new(dataset: &Dataset) -> IssueStore {
        let fixtures = load_fixture_issues(&dataset.fixture_issues, &dataset.fixture_changelog);
        let mut taken: HashMap<String, u64> = HashMap::new();
        for f in &fixtures {
            let n = taken.entry(f.prefix.clone()).or_insert(0);
            *n = (*n).max(f.number);
        }
        let site = Site::new(dataset, &taken);
        let generated = site.generated_count();
        let created: Vec<i64> = (0..generated).map(|g| facts::created(&site, g)).collect();
        let base_updated = (0..generated)
            .map(|g| facts::base_updated(&site, g, created[g], facts::history_count(&site, g)))
            .collect();

        let mut known: Vec<KnownProject> = site
            .projects
            .iter()
            .zip(&dataset.projects)
            .map(|(ctx, p)| KnownProject {
                key: ctx.key.clone(),
                id: ctx.id.clone(),
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                site_index: Some(ctx.index),
                fixtures: Vec::new(),
            })
            .collect();
        for (i, f) in fixtures.iter().enumerate() {
            match known.iter_mut().find(|k| k.key == f.project_key) {
                Some(k) => k.fixtures.push(i),
                None => known.push(KnownProject {
                    key: f.project_key.clone(),
                    id: f.project_id.clone(),
                    name: f.project_name.clone(),
                    site_index: None,
                    fixtures: vec![i],
                }),
            }
        }

        let mut prefixes: Vec<&str> = site.projects.iter().map(|p| p.key.as_str()).collect();
        prefixes.extend(fixtures.iter().map(|f| f.prefix.as_str()));
        prefixes.sort_unstable();
        prefixes.dedup();
        let rank = |prefix: &str| prefixes.binary_search(&prefix).unwrap_or(0) as u64;
        let project_rank = site.projects.iter().map(|p| rank(&p.key)).collect();
        let fixture_rank = fixtures.iter().map(|f| rank(&f.prefix)).collect();

        let mut fixture_index = HashMap::new();
        for (i, f) in fixtures.iter().enumerate() {
            fixture_index.insert(f.id.clone(), i);
            fixture_index.insert(f.key.to_ascii_uppercase(), i);
        }
        let site_projects = site
            .projects
            .iter()
            .map(|p| (p.key.to_ascii_uppercase(), p.index))
            .collect();
        IssueStore {
            state: RwLock::new(State {
                deleted: vec![false; fixtures.len() + generated],
                bumps: HashMap::new(),
                overrides: HashMap::new(),
                linked: HashMap::new(),
                generation: 0,
            }),
            development_field: std::sync::atomic::AtomicBool::new(true),
            cache: Mutex::new(VecDeque::new()),
            site,
            fixtures,
            known,
            fixture_index,
            site_projects,
            created,
            base_updated,
            project_rank,
            fixture_rank,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // the state is a set of plain values, consistent after any panic
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn ordinal(&self, r: IssueRef) -> usize {
        match r {
            IssueRef::Fixture(i) => i,
            IssueRef::Generated(g) => self.fixtures.len() + g,
        }
    }

    fn at_ordinal(&self, ordinal: usize) -> IssueRef {
        match ordinal.checked_sub(self.fixtures.len()) {
            Some(g) => IssueRef::Generated(g),
            None => IssueRef::Fixture(ordinal),
        }
    }

    /// The issue an id or key names, deleted or not.
    fn resolve(&self, id_or_key: &str) -> Option<IssueRef> {
        let text = id_or_key.trim();
        let upper = text.to_ascii_uppercase();
        if let Some(&i) = self
            .fixture_index
            .get(text)
            .or_else(|| self.fixture_index.get(&upper))
        {
            return Some(IssueRef::Fixture(i));
        }
        let per = self.site.per_project;
        if per == 0 {
            return None;
        }
        if let Ok(id) = text.parse::<u64>() {
            let g = id.checked_sub(GENERATED_ID_BASE)?;
            let g = usize::try_from(g).ok()?;
            return (g < self.site.generated_count()).then_some(IssueRef::Generated(g));
        }
        let (prefix, number) = upper.rsplit_once('-')?;
        let number: u64 = number.parse().ok()?;
        let &p = self.site_projects.get(prefix)?;
        let offset = number.checked_sub(self.site.projects[p].first_number)?;
        let offset = usize::try_from(offset).ok().filter(|&o| o < per)?;
        Some(IssueRef::Generated(p * per + offset))
    }

    /// The live issue an id or key names.
    pub(crate) fn find(&self, id_or_key: &str) -> Option<IssueRef> {
        let r = self.resolve(id_or_key)?;
        (!self.read().deleted[self.ordinal(r)]).then_some(r)
    }

    /// Issue `g` at its current version.
    pub(crate) fn generated(&self, g: usize) -> Issue<'_> {
        let bumps = self.read().bumps.get(&g).cloned().unwrap_or_default();
        Issue::new(&self.site, g, &bumps)
    }

    pub(crate) fn id_of(&self, r: IssueRef) -> String {
        match r {
            IssueRef::Fixture(i) => self.fixtures[i].id.clone(),
            IssueRef::Generated(g) => (GENERATED_ID_BASE + g as u64).to_string(),
        }
    }

    /// The issue object for searches and GET issue.
    pub(crate) fn render(
        &self,
        r: IssueRef,
        sel: &FieldSel,
        changelog_cap: Option<usize>,
    ) -> Out<'_> {
        match r {
            IssueRef::Fixture(i) => self.fixtures[i].json(sel, changelog_cap),
            IssueRef::Generated(g) if sel.is_light() && changelog_cap.is_none() => {
                light_json(GENERATED_ID_BASE + g as u64, self.site.key(g), sel)
            }
            IssueRef::Generated(g) => {
                let issue = self.generated(g);
                let mut out = issue_json(&issue, sel, changelog_cap);
                let state = self.read();
                if sel.wants(DEVELOPMENT_FIELD) && self.development_field.load(Ordering::Relaxed) {
                    let linked = state.linked.get(&g).map_or(&[][..], Vec::as_slice);
                    add_field(
                        &mut out,
                        DEVELOPMENT_FIELD,
                        Out::Str(super::devinfo::field_value(&issue, linked)),
                    );
                }
                if let Some(overrides) = state.overrides.get(&g) {
                    override_fields(&mut out, overrides);
                }
                out
            }
        }
    }

    /// Replaces `field` of a live generated issue with `value` wherever the issue is
    /// rendered (searches, GET issue); false for an unknown, deleted or recorded issue.
    pub(crate) fn set_field(&self, key: &str, field: &str, value: serde_json::Value) -> bool {
        self.change_generated(key, |state, g| {
            let overrides = state.overrides.entry(g).or_default();
            overrides.retain(|(name, _)| name != field);
            overrides.push((field.to_string(), value));
        })
    }

    /// Applies `change` to the state of one live generated issue (by key or id) and
    /// invalidates cached searches; false for an unknown, deleted or recorded issue.
    fn change_generated(&self, key: &str, change: impl FnOnce(&mut State, usize)) -> bool {
        let Some(r) = self.resolve(key) else {
            return false;
        };
        let ordinal = self.ordinal(r);
        let Some(g) = ordinal.checked_sub(self.fixtures.len()) else {
            return false;
        };
        let mut state = self.write();
        if state.deleted[ordinal] {
            return false;
        }
        change(&mut state, g);
        state.generation += 1;
        true
    }

    /// Histories `from..to` and the total.
    pub(crate) fn histories(&self, r: IssueRef, from: usize, to: usize) -> (Vec<Out<'_>>, usize) {
        match r {
            IssueRef::Fixture(i) => {
                let all = &self.fixtures[i].histories;
                let page = all
                    .iter()
                    .skip(from)
                    .take(to.saturating_sub(from))
                    .map(Out::Ref)
                    .collect();
                (page, all.len())
            }
            IssueRef::Generated(g) => {
                let issue = self.generated(g);
                (
                    super::history::histories(&issue, from, to),
                    issue.history_total(),
                )
            }
        }
    }

    /// Issues not deleted.
    pub(crate) fn live_count(&self) -> usize {
        self.read().deleted.iter().filter(|d| !**d).count()
    }

    /// Removes an issue; false when it does not exist or is already gone.
    pub(crate) fn delete(&self, id_or_key: &str) -> bool {
        let Some(r) = self.resolve(id_or_key) else {
            return false;
        };
        let ordinal = self.ordinal(r);
        let mut state = self.write();
        if state.deleted[ordinal] {
            return false;
        }
        state.deleted[ordinal] = true;
        state.generation += 1;
        true
    }

    /// Serves a deleted generated issue again, updated now: to a client it is an issue that
    /// did not exist before (e.g. created after a listing); false if it was not deleted.
    pub(crate) fn restore(&self, key: &str) -> bool {
        let Some(r) = self.resolve(key) else {
            return false;
        };
        let ordinal = self.ordinal(r);
        let Some(g) = ordinal.checked_sub(self.fixtures.len()) else {
            return false;
        };
        let now = now_ms();
        let mut state = self.write();
        if !state.deleted[ordinal] {
            return false;
        }
        state.deleted[ordinal] = false;
        let bumps = state.bumps.entry(g).or_default();
        let last = bumps.last().copied().unwrap_or(self.base_updated[g]);
        bumps.push(now.max(last + 1));
        state.generation += 1;
        true
    }

    /// Sets one live generated issue's `updated` to `at_ms` (at least one millisecond after
    /// its current value) with a new changelog history; false for an unknown, deleted or
    /// recorded (fixture) issue.
    pub(crate) fn set_updated(&self, key: &str, at_ms: i64) -> bool {
        self.change_generated(key, |state, g| {
            let bumps = state.bumps.entry(g).or_default();
            let last = bumps.last().copied().unwrap_or(self.base_updated[g]);
            bumps.push(at_ms.max(last + 1));
        })
    }

    /// Links a new (open) pull request to one live generated issue, now, without touching
    /// its `updated` (as on Jira, where linking development work is not a field change);
    /// false for an unknown, deleted or recorded issue.
    /// `spec` names an existing pull request; `None` links a new open one.
    pub(crate) fn link_pull_request(
        &self,
        key: &str,
        spec: Option<super::devinfo::PullRequestSpec>,
    ) -> bool {
        // JQL's development counts change: cached searches are invalidated with it.
        self.change_generated(key, |state, g| {
            state
                .linked
                .entry(g)
                .or_default()
                .push(super::devinfo::LinkedPr { at: now_ms(), spec });
        })
    }

    /// Pull requests linked later to generated issue `g`.
    pub(crate) fn linked(&self, g: usize) -> Vec<super::devinfo::LinkedPr> {
        self.read().linked.get(&g).cloned().unwrap_or_default()
    }

    /// Bumps a deterministic `fraction` of the live generated issues to now; their keys, sorted.
    pub(crate) fn bump(&self, fraction: f64, seed: u64) -> Vec<String> {
        let now = now_ms();
        let threshold = if fraction >= 1.0 {
            u64::MAX
        } else if fraction > 0.0 {
            // the fraction of the u64 range below which a hash selects the issue
            (fraction * u64::MAX as f64) as u64
        } else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        let mut state = self.write();
        let offset = self.fixtures.len();
        for g in 0..self.site.generated_count() {
            if state.deleted[offset + g] || hash(&[seed, g as u64, 0xB0B]) > threshold {
                continue;
            }
            let bumps = state.bumps.entry(g).or_default();
            // never move updated backwards, even with a clock that jumped
            let last = bumps.last().copied().unwrap_or(self.base_updated[g]);
            bumps.push(now.max(last + 1));
            keys.push(self.site.key(g));
        }
        state.generation += 1;
        drop(state);
        keys.sort();
        keys
    }

    fn known_project(&self, value: &str) -> Option<usize> {
        self.known.iter().position(|k| {
            k.key.eq_ignore_ascii_case(value) || k.id == value || k.name.eq_ignore_ascii_case(value)
        })
    }

    /// Ordinals of the live issues `query` selects, in its order (ties by id).
    pub(crate) fn search(&self, jql: &str, query: &Query) -> Result<Arc<Vec<u32>>, SearchError> {
        let state = self.read();
        let cacheable = !query.uses_now;
        if cacheable
            && let Some(hit) = self
                .lock_cache()
                .iter()
                .find(|c| c.jql == jql && c.generation == state.generation)
        {
            return Ok(Arc::clone(&hit.ordinals));
        }

        let mut projects: Option<HashSet<usize>> = None;
        let mut issues: Option<HashSet<usize>> = None;
        let mut times = Vec::new();
        let mut development = Vec::new();
        for clause in &query.clauses {
            match clause {
                Clause::Project(values) => {
                    let mut set = HashSet::new();
                    for v in values {
                        let p = self.known_project(v).ok_or_else(|| {
                            SearchError(format!(
                                "The value '{v}' does not exist for the field 'project'."
                            ))
                        })?;
                        set.insert(p);
                    }
                    projects = Some(match projects {
                        Some(prev) => prev.intersection(&set).copied().collect(),
                        None => set,
                    });
                }
                Clause::Issue(values) => {
                    let mut set = HashSet::new();
                    for v in values {
                        let r = self
                            .resolve(v)
                            .filter(|r| !state.deleted[self.ordinal(*r)])
                            .ok_or_else(|| {
                                SearchError(format!(
                                    "An issue with key '{v}' does not exist for field 'key'."
                                ))
                            })?;
                        set.insert(self.ordinal(r));
                    }
                    issues = Some(match issues {
                        Some(prev) => prev.intersection(&set).copied().collect(),
                        None => set,
                    });
                }
                Clause::Time { field, cmp, at } => times.push((*field, *cmp, *at)),
                Clause::Development { field, cmp, count } => {
                    development.push((*field, *cmp, *count))
                }
            }
        }

        let candidates: Vec<usize> = match issues {
            Some(set) => {
                let mut v: Vec<usize> = set
                    .into_iter()
                    .filter(|&o| {
                        projects
                            .as_ref()
                            .is_none_or(|ps| ps.contains(&self.project_of(o)))
                    })
                    .collect();
                v.sort_unstable();
                v
            }
            None => {
                let mut chosen: Vec<usize> = match projects {
                    Some(set) => set.into_iter().collect(),
                    None => (0..self.known.len()).collect(),
                };
                chosen.sort_unstable();
                let per = self.site.per_project;
                let offset = self.fixtures.len();
                chosen
                    .iter()
                    .flat_map(|&k| {
                        let known = &self.known[k];
                        let generated = known
                            .site_index
                            .map_or(0..0, |p| offset + p * per..offset + (p + 1) * per);
                        known.fixtures.iter().copied().chain(generated)
                    })
                    .collect()
            }
        };

        let order: &[(SortField, bool)] = if query.order.is_empty() {
            &[(SortField::Key, true)]
        } else {
            &query.order
        };
        let mut keyed: Vec<([i64; 3], i64, u32)> = Vec::with_capacity(candidates.len());
        for o in candidates {
            if state.deleted[o] {
                continue;
            }
            let (created, updated) = self.times(&state, o);
            let holds = times.iter().all(|(field, cmp, at)| {
                let value = if *field == TimeField::Updated {
                    updated
                } else {
                    created
                };
                cmp.holds(value, *at)
            });
            if !holds {
                continue;
            }
            if !development.is_empty() {
                let counts = self.dev_counts(&state, o);
                let holds = development.iter().all(|(field, cmp, count)| {
                    let value = match field {
                        DevField::PullRequests => counts.pull_requests,
                        DevField::OpenPullRequests => counts.open_pull_requests,
                        DevField::Commits => counts.commits,
                        DevField::Branches => counts.branches,
                    };
                    cmp.holds(value, *count)
                });
                if !holds {
                    continue;
                }
            }
            let mut sort = [0i64; 3];
            for (slot, (field, descending)) in sort.iter_mut().zip(order) {
                let value = match field {
                    SortField::Updated => updated,
                    SortField::Created => created,
                    SortField::Key => self.key_rank(o),
                    SortField::Id => self.numeric_id(o),
                };
                *slot = if *descending { -value } else { value };
            }
            keyed.push((sort, self.numeric_id(o), o as u32));
        }
        keyed.sort_unstable();
        let ordinals = Arc::new(keyed.into_iter().map(|(_, _, o)| o).collect::<Vec<u32>>());

        if cacheable {
            let mut cache = self.lock_cache();
            if cache.len() >= CACHED_SEARCHES {
                cache.pop_front();
            }
            cache.push_back(Cached {
                jql: jql.to_owned(),
                generation: state.generation,
                ordinals: Arc::clone(&ordinals),
            });
        }
        Ok(ordinals)
    }

    pub(crate) fn issue_at(&self, ordinal: u32) -> IssueRef {
        self.at_ordinal(ordinal as usize)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, VecDeque<Cached>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn project_of(&self, ordinal: usize) -> usize {
        match self.at_ordinal(ordinal) {
            IssueRef::Fixture(i) => self
                .known
                .iter()
                .position(|k| k.fixtures.contains(&i))
                .unwrap_or(usize::MAX),
            IssueRef::Generated(g) => {
                let p = g / self.site.per_project.max(1);
                self.known
                    .iter()
                    .position(|k| k.site_index == Some(p))
                    .unwrap_or(usize::MAX)
            }
        }
    }

    fn times(&self, state: &State, ordinal: usize) -> (i64, i64) {
        match self.at_ordinal(ordinal) {
            IssueRef::Fixture(i) => (self.fixtures[i].created, self.fixtures[i].updated),
            IssueRef::Generated(g) => {
                let updated = state
                    .bumps
                    .get(&g)
                    .and_then(|b| b.last().copied())
                    .unwrap_or(self.base_updated[g]);
                (self.created[g], updated)
            }
        }
    }

    /// Linked development work; recorded issues have none.
    fn dev_counts(&self, state: &State, ordinal: usize) -> super::DevCounts {
        match self.at_ordinal(ordinal) {
            IssueRef::Fixture(_) => super::DevCounts::default(),
            IssueRef::Generated(g) => super::devinfo::counts(
                &self.site,
                g,
                state.linked.get(&g).map_or(&[][..], Vec::as_slice),
            ),
        }
    }

    fn key_rank(&self, ordinal: usize) -> i64 {
        let (rank, number) = match self.at_ordinal(ordinal) {
            IssueRef::Fixture(i) => (self.fixture_rank[i], self.fixtures[i].number),
            IssueRef::Generated(g) => {
                let (project, number) = self.site.locate(g);
                (self.project_rank[project.index], number)
            }
        };
        ((rank << 40) | number.min((1 << 40) - 1)) as i64
    }

    fn numeric_id(&self, ordinal: usize) -> i64 {
        match self.at_ordinal(ordinal) {
            IssueRef::Fixture(i) => self.fixtures[i].id.parse().unwrap_or(0),
            IssueRef::Generated(g) => (GENERATED_ID_BASE + g as u64) as i64,
        }
    }
}

/// Replaces the values of rendered fields that an override names (fields not rendered, for
/// lack of `fields=`, stay absent).
/// Appends `field` to the issue's `fields` object.
fn add_field<'a>(out: &mut Out<'a>, field: &'a str, value: Out<'a>) {
    let Out::Obj(entries) = out else {
        return;
    };
    if let Some((_, Out::Obj(fields))) = entries.iter_mut().find(|(name, _)| *name == "fields") {
        fields.push((field, value));
    }
}

fn override_fields(out: &mut Out<'_>, overrides: &[(String, serde_json::Value)]) {
    let Out::Obj(entries) = out else {
        return;
    };
    for (name, value) in entries.iter_mut() {
        if *name != "fields" {
            continue;
        }
        if let Out::Obj(fields) = value {
            for (field, rendered) in fields.iter_mut() {
                if let Some((_, replacement)) = overrides.iter().find(|(n, _)| n == field) {
                    *rendered = Out::Own(replacement.clone());
                }
            }
        }
    }
}
