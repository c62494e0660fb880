//! Development information (the internal dev-status API): GitHub pull requests, branches and
//! repositories linked to every n-th generated issue.

use serde_json::{Value, json};

use super::facts::{Issue, salt};
use super::site::Site;
use super::text;
use crate::rng::{Rng, hash_str};
use crate::time::jira;

const REPOS: [&str; 4] = [
    "acme/web-app",
    "acme/api-gateway",
    "acme/mobile",
    "acme/data-pipeline",
];

struct Pr {
    number: u64,
    status: String,
    branch: String,
    repo: String,
    updated: i64,
    author: String,
    /// Set for a pull request linked as a given one ([`PullRequestSpec`]).
    given: Option<(String, String)>,
}

/// A pull request linked to an issue as a GitHub app would link an existing one: what
/// dev status then shows for it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequestSpec {
    /// Its web page (dev status's `url`), e.g. `https://github.com/acme/api/pull/7`.
    pub url: String,
    /// `owner/name`.
    pub repository: String,
    pub number: u64,
    pub title: String,
    /// `OPEN`, `MERGED` or `DECLINED`.
    pub status: String,
    pub author: String,
    /// Head branch.
    pub branch: String,
    /// Last update, milliseconds since the epoch.
    pub updated_ms: i64,
}

/// One pull request linked after generation: when, and what it is (`None`: a new open one).
#[derive(Clone, Debug)]
pub(crate) struct LinkedPr {
    pub(crate) at: i64,
    pub(crate) spec: Option<PullRequestSpec>,
}

struct Dev {
    prs: Vec<Pr>,
    branches: Vec<(String, &'static str)>,
    repos: Vec<&'static str>,
}

fn has_dev(issue: &Issue) -> bool {
    generated_has_dev(issue.site, issue.g)
}

/// Pull requests linked to an issue after it was generated ([`crate::Simulator::link_pull_request`]):
/// their link times. Linking development work is not a field change: the issue's `updated`
/// stays where it was, as on Jira.
pub(crate) type Linked<'l> = &'l [LinkedPr];

fn generated_has_dev(site: &Site, g: usize) -> bool {
    let every = site.spec.dev_status_every;
    every > 0 && (g + 1).is_multiple_of(every)
}

/// What Jira's `development[…]` JQL index holds for one issue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DevCounts {
    pub(crate) pull_requests: i64,
    pub(crate) open_pull_requests: i64,
    pub(crate) commits: i64,
    pub(crate) branches: i64,
}

/// The development counts of generated issue `g` (zero for most: only every n-th has any).
pub(crate) fn counts(site: &Site, g: usize, linked: Linked) -> DevCounts {
    if !generated_has_dev(site, g) && linked.is_empty() {
        return DevCounts::default();
    }
    let issue = Issue::new(site, g, &[]);
    let Some(dev) = dev(&issue, linked) else {
        return DevCounts::default();
    };
    DevCounts {
        pull_requests: dev.prs.len() as i64,
        open_pull_requests: dev.prs.iter().filter(|p| p.status == "OPEN").count() as i64,
        commits: (0..dev.repos.len())
            .map(|r| commit_count(&mut repo_rng(&issue, r)) as i64)
            .sum(),
        branches: dev.branches.len() as i64,
    }
}

fn repo_rng(issue: &Issue, r: usize) -> Rng {
    Rng::new(&[
        issue.site.spec.seed,
        issue.g as u64,
        salt::DEV,
        100 + r as u64,
    ])
}

/// The first draw of a repository's generator: how many commits it has for the issue.
fn commit_count(rng: &mut Rng) -> usize {
    1 + rng.below(4)
}

fn dev(issue: &Issue, linked: Linked) -> Option<Dev> {
    let generated = generated_dev(issue);
    if linked.is_empty() {
        return generated;
    }
    let mut dev = generated.unwrap_or_else(|| Dev {
        prs: Vec::new(),
        branches: vec![(format!("feature/{}", issue.key), REPOS[0])],
        repos: vec![REPOS[0]],
    });
    let (branch, repo) = dev.branches[0].clone();
    let author = issue.site.humans()[0].name.clone();
    for (k, link) in linked.iter().enumerate() {
        dev.prs.push(match &link.spec {
            None => Pr {
                number: 9000 + k as u64,
                status: "OPEN".into(),
                branch: branch.clone(),
                repo: repo.into(),
                updated: link.at,
                author: author.clone(),
                given: None,
            },
            Some(spec) => Pr {
                number: spec.number,
                status: spec.status.clone(),
                branch: spec.branch.clone(),
                repo: spec.repository.clone(),
                updated: spec.updated_ms,
                author: spec.author.clone(),
                given: Some((spec.url.clone(), spec.title.clone())),
            },
        });
    }
    Some(dev)
}

fn generated_dev(issue: &Issue) -> Option<Dev> {
    if !has_dev(issue) {
        return None;
    }
    let mut rng = issue.rng(salt::DEV);
    let start = rng.below(REPOS.len());
    let repos: Vec<&'static str> = (0..1 + rng.below(2))
        .map(|k| REPOS[(start + k) % REPOS.len()])
        .collect();
    let branches: Vec<(String, &'static str)> = (0..1 + rng.below(3))
        .map(|k| {
            let prefix = ["feature", "bugfix", "chore"][rng.below(3)];
            let name = if k == 0 {
                format!("{prefix}/{}", issue.key)
            } else {
                format!("{prefix}/{}-part-{}", issue.key, k + 1)
            };
            (name, repos[k % repos.len()])
        })
        .collect();
    let humans = issue.site.humans();
    let prs = (0..1 + rng.below(4))
        .map(|k| {
            let (branch, repo) = branches[k % branches.len()].clone();
            Pr {
                number: 100 + rng.below(5000) as u64,
                status: match rng.below(100) {
                    0..55 => "MERGED",
                    55..85 => "OPEN",
                    _ => "DECLINED",
                }
                .into(),
                updated: rng.between(issue.created, issue.updated() + 1),
                author: humans[rng.below(humans.len())].name.clone(),
                branch,
                repo: repo.into(),
                given: None,
            }
        })
        .collect();
    Some(Dev {
        prs,
        branches,
        repos,
    })
}

fn avatar(name: &str) -> String {
    format!(
        "https://avatars.githubusercontent.com/u/{}?v=4",
        hash_str(name) % 10_000_000
    )
}

/// `{"errors":[],"configErrors":[],"summary":{...}}` with zero counts when there is no dev info.
pub(crate) fn summary(issue: Option<&Issue>, linked: Linked) -> Value {
    let dev = issue.and_then(|i| dev(i, linked));
    let prs = dev.as_ref().map_or(&[][..], |d| &d.prs[..]);
    let count = |state: &str| prs.iter().filter(|p| p.status == state).count();
    let last_pr = prs.iter().map(|p| p.updated).max();
    let state = if count("OPEN") > 0 {
        "OPEN"
    } else if count("MERGED") > 0 {
        "MERGED"
    } else if prs.is_empty() {
        // what Jira reports for an issue without pull requests
        "OPEN"
    } else {
        "DECLINED"
    };
    let by_instance = |n: usize| {
        if n == 0 {
            json!({})
        } else {
            json!({"GitHub": {"count": n, "name": "GitHub"}})
        }
    };
    let branches = dev.as_ref().map_or(0, |d| d.branches.len());
    let repos = dev.as_ref().map_or(0, |d| d.repos.len());
    let stamp = |t: Option<i64>| t.map_or(Value::Null, |t| jira(t).into());
    let epoch = |t: Option<i64>| t.map_or(Value::Null, Value::from);
    json!({
        "errors": [],
        "configErrors": [],
        "summary": {
            "pullrequest": {
                "overall": {
                    "count": prs.len(),
                    "lastUpdated": stamp(last_pr),
                    "lastUpdatedTimestamp": epoch(last_pr),
                    "stateCount": count(state),
                    "state": state,
                    "details": {
                        "openCount": count("OPEN"),
                        "mergedCount": count("MERGED"),
                        "declinedCount": count("DECLINED"),
                    },
                    "open": count("OPEN") > 0,
                },
                "byInstanceType": by_instance(prs.len()),
            },
            "branch": {
                "overall": {"count": branches, "lastUpdated": Value::Null, "lastUpdatedTimestamp": Value::Null},
                "byInstanceType": by_instance(branches),
            },
            "repository": {
                "overall": {"count": repos, "lastUpdated": stamp(last_pr), "lastUpdatedTimestamp": epoch(last_pr)},
                "byInstanceType": by_instance(repos),
            },
            "build": {
                "overall": {"count": 0, "lastUpdated": Value::Null, "failedBuildCount": 0, "successfulBuildCount": 0, "unknownBuildCount": 0},
                "byInstanceType": {},
            },
            "review": {
                "overall": {"count": 0, "lastUpdated": Value::Null, "stateCount": 0, "state": Value::Null, "dueDate": Value::Null, "overDue": false, "completed": false},
                "byInstanceType": {},
            },
        },
    })
}

/// The Development field (`com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf`)
/// as Jira Cloud's REST API renders it: the text `{}` for an issue without development
/// information, else a Java map's `toString()` whose `json` entry holds the cached
/// dev-status summary (only the data types with something).
pub(crate) fn field_value(issue: &Issue, linked: Linked) -> String {
    if dev(issue, linked).is_none() {
        return "{}".to_string();
    }
    let mut full = summary(Some(issue), linked);
    let mut parts = serde_json::Map::new();
    if let Some(Value::Object(all)) = full.get_mut("summary").map(Value::take) {
        for (data_type, mut part) in all {
            let count = part["overall"]["count"].as_u64().unwrap_or(0);
            if count == 0 {
                continue;
            }
            if let Some(overall) = part.get_mut("overall").and_then(Value::as_object_mut) {
                overall.remove("details");
                overall.insert("dataType".into(), data_type.clone().into());
            }
            parts.insert(data_type, part);
        }
    }
    let head = match (parts.get("pullrequest"), parts.get("branch")) {
        (Some(pr), _) => format!(
            "pullrequest={{dataType=pullrequest, state={}, stateCount={}}}",
            pr["overall"]["state"].as_str().unwrap_or("OPEN"),
            pr["overall"]["stateCount"]
        ),
        (None, Some(branch)) => format!(
            "branch={{count={}, dataType=branch}}",
            branch["overall"]["count"]
        ),
        (None, None) => "repository={dataType=repository}".to_string(),
    };
    let cached = json!({"cachedValue": {"errors": [], "summary": parts}, "isStale": false});
    format!("{{{head}, json={cached}}}")
}

/// `{"errors":[],"detail":[...]}` for one application type and data type (all three when
/// `data_type` is None). Only GitHub is connected; other application types have no detail.
pub(crate) fn detail(
    issue: Option<&Issue>,
    linked: Linked,
    application: &str,
    data_type: Option<&str>,
) -> Value {
    if !application.eq_ignore_ascii_case("github") {
        return json!({"errors": [], "detail": []});
    }
    let dev = issue.and_then(|i| dev(i, linked).map(|d| (i, d)));
    let wants = |t: &str| data_type.is_none_or(|d| d.eq_ignore_ascii_case(t));
    let (mut prs, mut branches, mut repos) = (Vec::new(), Vec::new(), Vec::new());
    if let Some((issue, dev)) = &dev {
        let title = text::summary(&mut issue.rng(salt::SUMMARY));
        if wants("pullrequest") {
            prs = dev
                .prs
                .iter()
                .map(|pr| pr_json(issue, pr, &title))
                .collect();
        }
        if wants("branch") {
            branches = dev
                .branches
                .iter()
                .map(|(name, repo)| branch_json(name, repo))
                .collect();
        }
        if wants("repository") {
            repos = dev
                .repos
                .iter()
                .enumerate()
                .map(|(r, repo)| repo_json(issue, r, repo))
                .collect();
        }
    }
    json!({
        "errors": [],
        "detail": [{
            "pullRequests": prs,
            "branches": branches,
            "repositories": repos,
            "_instance": {
                "name": "GitHub",
                "type": "github",
                "id": "github",
                "baseUrl": "https://github.com",
                "singleInstance": true,
                "typeName": "GitHub",
            },
        }],
    })
}

fn repo_ref(repo: &str) -> Value {
    json!({
        "id": (hash_str(repo) % 1_000_000).to_string(),
        "name": repo,
        "url": format!("https://github.com/{repo}"),
        "avatar": format!("https://github.com/{}.png", repo.split('/').next().unwrap_or(repo)),
    })
}

fn pr_json(issue: &Issue, pr: &Pr, title: &str) -> Value {
    let (url, name) = match &pr.given {
        Some((url, title)) => (url.clone(), title.clone()),
        None => (
            format!("https://github.com/{}/pull/{}", pr.repo, pr.number),
            format!("{}: {title}", issue.key),
        ),
    };
    json!({
        "author": {"name": pr.author, "avatar": avatar(&pr.author)},
        "id": format!("#{}", pr.number),
        "name": name,
        "commentCount": pr.number % 7,
        "source": {"branch": pr.branch, "url": format!("https://github.com/{}/tree/{}", pr.repo, pr.branch)},
        "destination": {"branch": "main", "url": format!("https://github.com/{}/tree/main", pr.repo)},
        "reviewers": [],
        "status": pr.status,
        "url": url,
        "lastUpdate": jira(pr.updated),
        "repositoryId": repo_ref(&pr.repo)["id"],
        "repositoryName": pr.repo,
        "repositoryUrl": format!("https://github.com/{}", pr.repo),
    })
}

fn branch_json(name: &str, repo: &str) -> Value {
    json!({
        "name": name,
        "url": format!("https://github.com/{repo}/tree/{name}"),
        "createPullRequestUrl": format!("https://github.com/{repo}/compare/{name}?expand=1"),
        "repository": repo_ref(repo),
    })
}

fn repo_json(issue: &Issue, r: usize, repo: &str) -> Value {
    let mut rng = repo_rng(issue, r);
    let humans = issue.site.humans();
    let commits: Vec<Value> = (0..commit_count(&mut rng))
        .map(|c| {
            let sha = format!(
                "{:016x}{:016x}{:08x}",
                rng.next_u64(),
                rng.next_u64(),
                rng.next_u64() & 0xffff_ffff
            );
            let author = &humans[rng.below(humans.len())].name;
            let message = if c == 0 {
                format!(
                    "{} {}",
                    issue.key,
                    text::summary(&mut issue.rng(salt::SUMMARY))
                )
            } else {
                format!(
                    "{}: address review comments\n\nCo-authored-by: {author} <noreply@github.com>",
                    issue.key
                )
            };
            json!({
                "id": sha,
                "displayId": &sha[..7],
                "authorTimestamp": jira(rng.between(issue.created, issue.updated() + 1)),
                "url": format!("https://github.com/{repo}/commit/{sha}"),
                "author": {"name": author, "avatar": avatar(author)},
                "fileCount": 1 + rng.below(12),
                "merge": false,
                "message": message,
                "files": [],
            })
        })
        .collect();
    let mut out = repo_ref(repo);
    if let Some(map) = out.as_object_mut() {
        map.insert("commits".into(), commits.into());
    }
    out
}
