//! What a GitHub simulator serves: the recorded PyGithub payloads, or a generated organisation
//! whose pull requests are rebuilt on demand from [`GithubSpec`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::generate::{self, PrFacts, mention, pr_facts};
use super::json::DAY;
use crate::rng::Rng;
use crate::time::{now_ms, parse_timestamp};

const REPO: &str = include_str!("../../fixtures/github/repos-repo.json");
const ORG_REPOS: &str = include_str!("../../fixtures/github/orgs-repos.json");
const PULLS: &str = include_str!("../../fixtures/github/repos-pulls.json");
const PULLS_CLOSED: &str = include_str!("../../fixtures/github/repos-pulls.exchange.json");
const PULL: &str = include_str!("../../fixtures/github/repos-pull.json");
const PULL_COMMITS: &str = include_str!("../../fixtures/github/repos-pull-commits.json");
const PULL_COMMENTS: &str = include_str!("../../fixtures/github/repos-pull-comments.json");
/// A review comment as GitHub returned it in 2012: the pull request only under
/// `_links.pull_request.href`, no `pull_request_url`, no top-level `html_url`.
const PULL_COMMENTS_LEGACY: &str =
    include_str!("../../fixtures/github/repos-pull-comments.legacy-2012.json");
const PULL_REVIEWS: &str = include_str!("../../fixtures/github/repos-pull-reviews.json");
const ISSUE_COMMENTS: &str = include_str!("../../fixtures/github/repos-issue-comments.json");
const ISSUE_COMMENTS_PAGES: [&str; 3] = [
    include_str!("../../fixtures/github/repos-issue-comments.page1.exchange.json"),
    include_str!("../../fixtures/github/repos-issue-comments.page2.exchange.json"),
    include_str!("../../fixtures/github/repos-issue-comments.page3.exchange.json"),
];
pub(crate) const RATE_LIMIT: &str = include_str!("../../fixtures/github/rate-limit.json");

/// Issue and pull request numbers the recordings were made for (see fixtures/SOURCES.md).
const REVIEWED_PR: u64 = 538;
const COMMENTED_PR: u64 = 31;
const COMMENTED_ISSUE: u64 = 28;
const PAGED_ISSUE: u64 = 1136;

/// What generated data looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GithubSpec {
    /// Organisation login, e.g. "acme".
    pub org: String,
    /// Repositories named "{org}/repo-{i:02}", i from 1.
    pub repos: usize,
    /// Pull requests per repository, numbered 1..=N.
    pub prs_per_repo: usize,
    pub commits_per_pr: usize,
    pub reviews_per_pr: usize,
    pub review_comments_per_pr: usize,
    pub issue_comments_per_pr: usize,
    pub seed: u64,
    /// Jira project keys, e.g. ["ENG","OPS"].
    pub jira_keys: Vec<String>,
    /// Every `mention_every`-th pull request (by number) mentions a key such as "ENG-12"
    /// (issue numbers 1..=100) in its title, its head branch ("feature/ENG-12-…") and one
    /// commit message; three in ten of them also name a second key in a commit message.
    /// 0 = never.
    pub mention_every: usize,
}

impl Default for GithubSpec {
    /// 3 repositories × 25 pull requests with a few children each; every 3rd mentions ENG or OPS.
    fn default() -> GithubSpec {
        GithubSpec {
            org: "acme".into(),
            repos: 3,
            prs_per_repo: 25,
            commits_per_pr: 3,
            reviews_per_pr: 2,
            review_comments_per_pr: 3,
            issue_comments_per_pr: 2,
            seed: 42,
            jira_keys: vec!["ENG".into(), "OPS".into()],
            mention_every: 3,
        }
    }
}

/// The repositories, pull requests and their details of one simulated GitHub.
#[derive(Clone, Debug)]
pub struct GithubDataset {
    pub(crate) data: Data,
}

#[derive(Clone, Debug)]
pub(crate) enum Data {
    Fixtures(Arc<FixtureData>),
    Generated(Arc<Generated>),
}

/// A generated organisation.
#[derive(Debug)]
pub(crate) struct Generated {
    pub(crate) spec: GithubSpec,
    pub(crate) org_id: u64,
    pub(crate) repos: Vec<GenRepo>,
    /// Per repository, per pull request (index = number - 1).
    pub(crate) prs: Vec<Vec<PrFacts>>,
}

#[derive(Debug)]
pub(crate) struct GenRepo {
    pub(crate) name: String,
    pub(crate) full_name: String,
    pub(crate) id: u64,
    pub(crate) created: i64,
    /// Last push (and update): the latest pull request activity.
    pub(crate) pushed: i64,
    pub(crate) description: String,
    pub(crate) language: &'static str,
    pub(crate) size: u64,
    pub(crate) stars: u64,
    pub(crate) forks: u64,
    pub(crate) open_prs: u64,
}

/// The recordings, indexed.
#[derive(Debug)]
pub(crate) struct FixtureData {
    pub(crate) repos: Vec<FixRepo>,
}

#[derive(Debug)]
pub(crate) struct FixRepo {
    pub(crate) value: Value,
    pub(crate) id: u64,
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) pushed: i64,
    /// By number.
    pub(crate) prs: Vec<FixPr>,
    pub(crate) commits: BTreeMap<u64, Vec<Value>>,
    pub(crate) reviews: BTreeMap<u64, Vec<Value>>,
    pub(crate) review_comments: BTreeMap<u64, Vec<FixComment>>,
    pub(crate) issue_comments: BTreeMap<u64, Vec<FixComment>>,
}

#[derive(Debug)]
pub(crate) struct FixPr {
    pub(crate) number: u64,
    /// List form; also served by GET pulls/{number} when no single form was recorded.
    pub(crate) list: Value,
    pub(crate) single: Option<Value>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) open: bool,
}

#[derive(Debug)]
pub(crate) struct FixComment {
    pub(crate) value: Value,
    pub(crate) id: u64,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

impl GithubDataset {
    /// The recorded data (fixtures/github, from PyGithub's test recordings):
    /// * repositories: PyGithub/PyGithub (repos-repo.json, id 3544490) and the two
    ///   BeaverSoftware repositories of orgs-repos.json; GET /orgs/{org}/repos lists each
    ///   owner's repositories (BeaverSoftware: both, PyGithub: one).
    /// * pull requests of PyGithub/PyGithub: repos-pulls.json (#32 open) and the closed ones of
    ///   repos-pulls.exchange.json (#39, #32, #31), de-duplicated by number keeping the most
    ///   recently updated record (#32 closed). GET pulls/31 serves repos-pull.json; #32 and
    ///   #39 have no single-form recording and serve their list form.
    /// * PR #31: its 3 commits and 2 review comments; PR #538 (not itself recorded, so GET
    ///   pulls/538 is 404): its 5 reviews; issue #28: 2 comments (repos-issue-comments.json,
    ///   given the `issue_url`/`html_url` the 2012 recording lacks); issue #1136: the 7
    ///   comments of the three paged recordings. Pull requests without recorded details
    ///   serve [].
    pub fn fixtures() -> GithubDataset {
        let mut main = fix_repo(parse("repos-repo.json", REPO));
        let beaver: Vec<FixRepo> = array(parse("orgs-repos.json", ORG_REPOS))
            .into_iter()
            .map(fix_repo)
            .collect();

        let mut prs: BTreeMap<u64, FixPr> = BTreeMap::new();
        let closed = parse("repos-pulls.exchange.json", PULLS_CLOSED);
        let listed = array(parse("repos-pulls.json", PULLS))
            .into_iter()
            .chain(array(closed["response"]["body"].clone()));
        for value in listed {
            let pr = FixPr {
                number: value["number"].as_u64().unwrap_or(0),
                created: time_of(&value["created_at"]),
                updated: time_of(&value["updated_at"]),
                open: value["state"] == "open",
                list: value,
                single: None,
            };
            match prs.get(&pr.number) {
                Some(known) if known.updated >= pr.updated => {}
                _ => {
                    prs.insert(pr.number, pr);
                }
            }
        }
        let single = parse("repos-pull.json", PULL);
        if let Some(pr) = single["number"].as_u64().and_then(|n| prs.get_mut(&n)) {
            pr.single = Some(single);
        }
        main.prs = prs.into_values().collect();

        main.commits.insert(
            COMMENTED_PR,
            array(parse("repos-pull-commits.json", PULL_COMMITS)),
        );
        main.reviews.insert(
            REVIEWED_PR,
            array(parse("repos-pull-reviews.json", PULL_REVIEWS)),
        );
        // Comment 1580134 as GitHub returned it in 2012 rather than as recorded in 2023: the
        // recorded data then exercises the older shape too.
        let legacy = array(parse(
            "repos-pull-comments.legacy-2012.json",
            PULL_COMMENTS_LEGACY,
        ));
        let review_comments: Vec<Value> = array(parse("repos-pull-comments.json", PULL_COMMENTS))
            .into_iter()
            .map(|comment| {
                legacy
                    .iter()
                    .find(|old| old["id"] == comment["id"])
                    .cloned()
                    .unwrap_or(comment)
            })
            .collect();
        main.review_comments
            .insert(COMMENTED_PR, comments(review_comments));
        let mut old = array(parse("repos-issue-comments.json", ISSUE_COMMENTS));
        for comment in &mut old {
            complete_issue_comment(comment, "PyGithub/PyGithub", COMMENTED_ISSUE);
        }
        main.issue_comments.insert(COMMENTED_ISSUE, comments(old));
        let paged = ISSUE_COMMENTS_PAGES
            .iter()
            .flat_map(|text| {
                array(
                    parse("repos-issue-comments.page*.exchange.json", text)["response"]["body"]
                        .clone(),
                )
            })
            .collect();
        main.issue_comments.insert(PAGED_ISSUE, comments(paged));

        let mut repos = vec![main];
        repos.extend(beaver);
        GithubDataset {
            data: Data::Fixtures(Arc::new(FixtureData { repos })),
        }
    }

    /// A generated organisation (see [`GithubSpec`]). Activity spans the year before midnight
    /// UTC of today; everything else is a pure function of the spec.
    pub fn generated(spec: GithubSpec) -> GithubDataset {
        let anchor = now_ms().div_euclid(1000).div_euclid(DAY) * DAY;
        GithubDataset {
            data: Data::Generated(Arc::new(Generated::new(spec, anchor))),
        }
    }

    pub fn repo_count(&self) -> usize {
        match &self.data {
            Data::Fixtures(f) => f.repos.len(),
            Data::Generated(g) => g.repos.len(),
        }
    }

    pub fn pr_count(&self) -> usize {
        match &self.data {
            Data::Fixtures(f) => f.repos.iter().map(|r| r.prs.len()).sum(),
            Data::Generated(g) => g.prs.iter().map(Vec::len).sum(),
        }
    }

    /// Commits of pull requests (sum over pull requests).
    pub fn commit_count(&self) -> usize {
        self.count(
            |r| r.commits.values().map(Vec::len).sum(),
            |s| s.commits_per_pr,
        )
    }

    pub fn review_count(&self) -> usize {
        self.count(
            |r| r.reviews.values().map(Vec::len).sum(),
            |s| s.reviews_per_pr,
        )
    }

    pub fn review_comment_count(&self) -> usize {
        self.count(
            |r| r.review_comments.values().map(Vec::len).sum(),
            |s| s.review_comments_per_pr,
        )
    }

    /// Comments of the issues API: on pull requests for generated data; for the recordings
    /// every recorded issue comment (issues #28 and #1136).
    pub fn issue_comment_count(&self) -> usize {
        self.count(
            |r| r.issue_comments.values().map(Vec::len).sum(),
            |s| s.issue_comments_per_pr,
        )
    }

    fn count(
        &self,
        recorded: impl Fn(&FixRepo) -> usize,
        per_pr: impl Fn(&GithubSpec) -> usize,
    ) -> usize {
        match &self.data {
            Data::Fixtures(f) => f.repos.iter().map(recorded).sum(),
            Data::Generated(g) => per_pr(&g.spec) * self.pr_count(),
        }
    }

    /// Every Jira key each generated pull request mentions in its title, head branch or a
    /// commit message, by (repository full name, number); pull requests without mentions
    /// are left out. Empty for the recordings.
    pub fn mentioned_keys(&self) -> BTreeMap<(String, u64), BTreeSet<String>> {
        let mut out = BTreeMap::new();
        let Data::Generated(g) = &self.data else {
            return out;
        };
        for (r, repo) in g.repos.iter().enumerate() {
            for k in 0..g.spec.prs_per_repo {
                let Some(m) = mention(&g.spec, r, k) else {
                    continue;
                };
                let mut keys = BTreeSet::from([m.primary.text(&g.spec)]);
                if let Some((key, _)) = m.secondary {
                    keys.insert(key.text(&g.spec));
                }
                out.insert((repo.full_name.clone(), k as u64 + 1), keys);
            }
        }
        out
    }
}

impl Generated {
    /// `anchor`: midnight UTC of the day the dataset was made (epoch seconds); generated
    /// activity spans the year before it.
    pub(crate) fn new(spec: GithubSpec, anchor: i64) -> Generated {
        let prs: Vec<Vec<PrFacts>> = (0..spec.repos)
            .map(|r| {
                (0..spec.prs_per_repo)
                    .map(|k| pr_facts(&spec, anchor, r, k))
                    .collect()
            })
            .collect();
        let repos = prs
            .iter()
            .enumerate()
            .map(|(r, facts)| gen_repo(&spec, anchor, r, facts))
            .collect();
        let org_id = 90_000_000 + crate::rng::hash_str(&spec.org) % 1_000_000;
        Generated {
            spec,
            org_id,
            repos,
            prs,
        }
    }

    /// Repository index by "owner/name" (case-insensitive, as GitHub).
    pub(crate) fn repo_by_name(&self, owner: &str, name: &str) -> Option<usize> {
        if !owner.eq_ignore_ascii_case(&self.spec.org) {
            return None;
        }
        self.repos
            .iter()
            .position(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn repo_by_id(&self, id: u64) -> Option<usize> {
        self.repos.iter().position(|r| r.id == id)
    }
}

const DESCRIPTIONS: [&str; 6] = [
    "Billing service and invoice renderer",
    "Web front end (React + TypeScript)",
    "Données de référence et migrations",
    "认证服务 / authentication service",
    "Infrastructure as code 🚧",
    "Shared Rust libraries",
];
const LANGUAGES: [&str; 5] = ["Rust", "TypeScript", "Go", "Python", "Java"];

fn gen_repo(spec: &GithubSpec, anchor: i64, r: usize, facts: &[PrFacts]) -> GenRepo {
    let mut rng = Rng::new(&[spec.seed, r as u64, generate::salt::REPO]);
    let name = format!("repo-{:02}", r + 1);
    let created = anchor - 365 * DAY - rng.between(30 * DAY, 3 * 365 * DAY);
    GenRepo {
        full_name: format!("{}/{name}", spec.org),
        name,
        id: 700_000_001 + r as u64,
        created,
        pushed: facts.iter().map(|f| f.updated).max().unwrap_or(created),
        description: DESCRIPTIONS[rng.below(DESCRIPTIONS.len())].to_owned(),
        language: LANGUAGES[rng.below(LANGUAGES.len())],
        size: rng.between(100, 250_000) as u64,
        stars: rng.between(0, 400) as u64,
        forks: rng.between(0, 40) as u64,
        open_prs: facts.iter().filter(|f| !f.closed).count() as u64,
    }
}

fn parse(name: &str, text: &str) -> Value {
    // the fixtures are compiled in; a broken one is a bug caught by the first test
    serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"))
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// Epoch seconds of a recorded timestamp; 0 when absent.
pub(crate) fn time_of(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(parse_timestamp)
        .map_or(0, |ms| ms.div_euclid(1000))
}

fn fix_repo(value: Value) -> FixRepo {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    FixRepo {
        id: value["id"].as_u64().unwrap_or(0),
        owner: value["owner"]["login"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        name: text("name"),
        created: time_of(&value["created_at"]),
        updated: time_of(&value["updated_at"]),
        pushed: time_of(&value["pushed_at"]),
        value,
        prs: Vec::new(),
        commits: BTreeMap::new(),
        reviews: BTreeMap::new(),
        review_comments: BTreeMap::new(),
        issue_comments: BTreeMap::new(),
    }
}

fn comments(values: Vec<Value>) -> Vec<FixComment> {
    values
        .into_iter()
        .map(|value| FixComment {
            id: value["id"].as_u64().unwrap_or(0),
            created: time_of(&value["created_at"]),
            updated: time_of(&value["updated_at"]),
            value,
        })
        .collect()
}

/// Adds the `issue_url` and `html_url` newer recordings have.
fn complete_issue_comment(comment: &mut Value, full_name: &str, issue: u64) {
    let id = comment["id"].as_u64().unwrap_or(0);
    if let Some(object) = comment.as_object_mut() {
        object.entry("issue_url").or_insert_with(|| {
            Value::String(format!(
                "https://api.github.com/repos/{full_name}/issues/{issue}"
            ))
        });
        object.entry("html_url").or_insert_with(|| {
            Value::String(format!(
                "https://github.com/{full_name}/issues/{issue}#issuecomment-{id}"
            ))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_counts() {
        let d = GithubDataset::fixtures();
        assert_eq!(d.repo_count(), 3);
        assert_eq!(d.pr_count(), 3);
        assert_eq!(d.commit_count(), 3);
        assert_eq!(d.review_count(), 5);
        assert_eq!(d.review_comment_count(), 2);
        assert_eq!(d.issue_comment_count(), 9);
        assert!(d.mentioned_keys().is_empty());
        let Data::Fixtures(f) = &d.data else {
            panic!("fixtures");
        };
        let numbers: Vec<u64> = f.repos[0].prs.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [31, 32, 39]);
        assert_eq!(f.repos[0].prs[1].list["state"], "closed");
        assert!(f.repos[0].prs[0].single.is_some());
    }

    #[test]
    fn generated_counts_and_mentions() {
        let spec = GithubSpec {
            repos: 2,
            prs_per_repo: 30,
            mention_every: 5,
            ..GithubSpec::default()
        };
        let d = GithubDataset::generated(spec.clone());
        assert_eq!(d.repo_count(), 2);
        assert_eq!(d.pr_count(), 60);
        assert_eq!(d.commit_count(), 180);
        assert_eq!(d.review_count(), 120);
        assert_eq!(d.review_comment_count(), 180);
        assert_eq!(d.issue_comment_count(), 120);
        let keys = d.mentioned_keys();
        assert_eq!(keys.len(), 12);
        assert!(keys.contains_key(&("acme/repo-01".to_owned(), 5)));
        assert!(keys.values().all(|k| !k.is_empty() && k.len() <= 2));
        let none = GithubDataset::generated(GithubSpec {
            mention_every: 0,
            ..spec
        });
        assert!(none.mentioned_keys().is_empty());
    }
}
