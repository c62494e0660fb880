//! End-to-end tests of the GitHub simulator over loopback HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;

use super::*;
use crate::tests::client;

pub(super) const TOKEN: &str = "ghp_test";

pub(super) async fn start(config: GithubSimulatorConfig) -> GithubSimulator {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    GithubSimulator::start(config, listener)
        .await
        .expect("start")
}

pub(super) fn small_spec() -> GithubSpec {
    GithubSpec {
        repos: 2,
        prs_per_repo: 75,
        ..GithubSpec::default()
    }
}

pub(super) async fn generated_sim(spec: GithubSpec) -> GithubSimulator {
    start(GithubSimulatorConfig {
        dataset: GithubDataset::generated(spec),
        ..GithubSimulatorConfig::default()
    })
    .await
}

pub(super) struct Got {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

impl Got {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(super) fn number(&self, name: &str) -> i64 {
        self.header(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("header {name} missing"))
    }

    /// rel -> URL of the Link header.
    fn links(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for part in self.header("link").unwrap_or_default().split(", ") {
            if let Some((url, rel)) = part.split_once("; rel=\"") {
                let url = url.trim_start_matches('<').trim_end_matches('>');
                out.insert(rel.trim_end_matches('"').to_owned(), url.to_owned());
            }
        }
        out
    }

    pub(super) fn items(&self) -> &Vec<Value> {
        self.body.as_array().expect("a JSON array")
    }
}

pub(super) async fn send(
    client: &Client,
    url: &str,
    auth: Option<&str>,
    extra: &[(&str, &str)],
) -> Got {
    let mut request = client.get(url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("send");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    };
    Got {
        status,
        headers,
        body,
    }
}

pub(super) async fn get(client: &Client, url: &str) -> Got {
    let got = send(client, url, Some(&format!("Bearer {TOKEN}")), &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{url}: {}", got.body);
    got
}

/// Every item of a listing, following rel="next"; also the URLs fetched.
pub(super) async fn walk(client: &Client, first: &str) -> (Vec<Value>, Vec<String>) {
    let (mut items, mut urls) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let page = get(client, &url).await;
        items.extend(page.items().iter().cloned());
        next = page.links().get("next").cloned();
        urls.push(url);
        assert!(urls.len() < 10_000, "paging does not end");
    }
    (items, urls)
}

fn numbers(items: &[Value]) -> Vec<u64> {
    items.iter().filter_map(|i| i["number"].as_u64()).collect()
}

pub(super) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

#[tokio::test]
async fn link_paging_walks_every_pull_once_via_repositories_urls() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let base = sim.base_url();
    let first = format!("{base}/repos/acme/repo-01/pulls?state=all&per_page=20");

    let page = get(&client, &first).await;
    let links = page.links();
    let repo_id = get(&client, &format!("{base}/repos/acme/repo-01"))
        .await
        .body["id"]
        .as_u64()
        .expect("repo id");
    assert_eq!(
        links["next"],
        format!("{base}/repositories/{repo_id}/pulls?state=all&per_page=20&page=2")
    );
    assert_eq!(
        links["last"],
        format!("{base}/repositories/{repo_id}/pulls?state=all&per_page=20&page=4")
    );
    assert!(!links.contains_key("prev") && !links.contains_key("first"));

    let (items, urls) = walk(&client, &first).await;
    assert_eq!(urls.len(), 4);
    assert!(urls[1..].iter().all(|u| u.contains("/repositories/")));
    // default order: created, newest first; every pull request exactly once
    let expected: Vec<u64> = (1..=75).rev().collect();
    assert_eq!(numbers(&items), expected);

    let middle = get(&client, &urls[1]).await.links();
    assert_eq!(
        middle.keys().collect::<Vec<_>>(),
        ["first", "last", "next", "prev"]
    );
    let last = get(&client, &urls[3]).await;
    assert_eq!(last.items().len(), 15);
    assert!(!last.links().contains_key("next"));
    assert!(last.links()["prev"].ends_with("page=3"));

    // single page: no Link at all
    let one = get(
        &client,
        &format!("{base}/repos/acme/repo-01/pulls?state=all&per_page=100"),
    )
    .await;
    assert!(one.header("link").is_none());
    assert_eq!(one.items().len(), 75);
    // past the last page: []
    let past = get(
        &client,
        &format!("{base}/repositories/{repo_id}/pulls?state=all&page=9"),
    )
    .await;
    assert!(past.items().is_empty());
    // per_page is capped at max_per_page
    let capped = get(
        &client,
        &format!("{base}/repos/acme/repo-02/pulls?state=all&per_page=50"),
    )
    .await;
    assert!(capped.links()["next"].contains("per_page=50&page=2"));
    let capped = get(
        &client,
        &format!("{base}/repos/acme/repo-02/pulls?state=all&per_page=500"),
    )
    .await;
    assert_eq!(capped.items().len(), 75);

    assert_eq!(sim.request_count(PULLS), 1 + 4 + 2 + 1 + 1 + 2);
    assert_eq!(sim.request_count(REPO), 1);
    sim.shutdown();
}

#[tokio::test]
async fn pulls_sort_and_state_filters() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let base = format!("{}/repos/acme/repo-02/pulls", sim.base_url());
    let times = |items: &[Value], key: &str| -> Vec<String> {
        items.iter().map(|i| text(i, key).to_owned()).collect()
    };

    let desc = get(
        &client,
        &format!("{base}?state=all&sort=updated&direction=desc&per_page=100"),
    )
    .await;
    let updated = times(desc.items(), "updated_at");
    assert_eq!(updated.len(), 75);
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "{updated:?}");

    // sort=updated without direction is ascending, as documented
    let asc = get(
        &client,
        &format!("{base}?state=all&sort=updated&per_page=100"),
    )
    .await;
    let ascending = times(asc.items(), "updated_at");
    assert!(ascending.windows(2).all(|w| w[0] <= w[1]));

    let created = get(
        &client,
        &format!("{base}?state=all&direction=asc&per_page=100"),
    )
    .await;
    assert_eq!(numbers(created.items()), (1..=75).collect::<Vec<u64>>());

    // state defaults to open
    let open = get(&client, &format!("{base}?per_page=100")).await;
    let closed = get(&client, &format!("{base}?state=closed&per_page=100")).await;
    assert!(open.items().iter().all(|p| p["state"] == "open"));
    assert!(closed.items().iter().all(|p| p["state"] == "closed"));
    assert_eq!(open.items().len() + closed.items().len(), 75);
    assert!(!open.items().is_empty() && !closed.items().is_empty());
    sim.shutdown();
}

#[tokio::test]
async fn etag_gives_304_without_spending() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let auth = format!("token {TOKEN}");
    let url = format!(
        "{}/repos/acme/repo-01/pulls?state=all&sort=updated&direction=desc",
        sim.base_url()
    );

    let first = send(&client, &url, Some(&auth), &[]).await;
    assert_eq!(first.status, StatusCode::OK);
    let tag = first.header("etag").expect("ETag").to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let remaining = first.number("x-ratelimit-remaining");
    assert_eq!(remaining, 4999);
    assert_eq!(sim.counted_calls(), 1);

    for presented in [tag.clone(), format!("W/{tag}"), format!("\"other\", {tag}")] {
        let again = send(&client, &url, Some(&auth), &[("if-none-match", &presented)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_null());
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        assert_eq!(again.number("x-ratelimit-remaining"), remaining);
        assert_eq!(again.header("x-ratelimit-resource"), Some("core"));
    }
    assert_eq!(sim.counted_calls(), 1);
    assert_eq!(sim.not_modified_count(), 3);
    assert_eq!(sim.request_count(PULLS), 4);
    assert_eq!(sim.remaining(TOKEN), 4999);

    // a stale tag is answered in full and spends
    let stale = send(
        &client,
        &url,
        Some(&auth),
        &[("if-none-match", "\"stale\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.number("x-ratelimit-remaining"), 4998);

    // a change makes the old tag stale
    sim.bump_updated(0.5, 1);
    let changed = send(&client, &url, Some(&auth), &[("if-none-match", &tag)]).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));

    // single objects also carry Last-Modified, honoured by If-Modified-Since
    let pull_url = format!("{}/repos/acme/repo-01/pulls/3", sim.base_url());
    let pull = send(&client, &pull_url, Some(&auth), &[]).await;
    let modified = pull
        .header("last-modified")
        .expect("Last-Modified")
        .to_owned();
    let since = send(
        &client,
        &pull_url,
        Some(&auth),
        &[("if-modified-since", &modified)],
    )
    .await;
    assert_eq!(since.status, StatusCode::NOT_MODIFIED);

    sim.reset_counts();
    assert_eq!((sim.counted_calls(), sim.not_modified_count()), (0, 0));
    assert!(sim.request_counts().is_empty());
    assert_eq!(sim.remaining(TOKEN), 4996, "budgets survive reset_counts");
    sim.shutdown();
}

#[tokio::test]
async fn primary_limit_counts_down_refuses_and_refills() {
    let sim = start(GithubSimulatorConfig {
        dataset: GithubDataset::generated(small_spec()),
        tokens: vec!["t1".into(), "t2".into()],
        rate_limit: 3,
        window: Duration::from_secs(2),
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let url = format!("{}/repos/acme/repo-01", sim.base_url());
    let t1 = Some("Bearer t1");

    let mut reset = 0;
    for expected in [2, 1, 0] {
        let got = send(&client, &url, t1, &[]).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.number("x-ratelimit-remaining"), expected);
        assert_eq!(got.number("x-ratelimit-limit"), 3);
        assert_eq!(got.number("x-ratelimit-used"), 3 - expected);
        reset = got.number("x-ratelimit-reset");
    }
    let refused = send(&client, &url, t1, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.number("x-ratelimit-remaining"), 0);
    assert_eq!(refused.number("x-ratelimit-reset"), reset);
    assert!(text(&refused.body, "message").starts_with("API rate limit exceeded for"));
    assert!(refused.body["documentation_url"].is_string());
    assert_eq!(sim.counted_calls(), 3);
    assert_eq!(sim.remaining("t1"), 0);

    // budgets are per token; /rate_limit is free and still answers
    let other = send(&client, &url, Some("token t2"), &[]).await;
    assert_eq!(other.number("x-ratelimit-remaining"), 2);
    let rate = send(&client, &format!("{}/rate_limit", sim.base_url()), t1, &[]).await;
    assert_eq!(rate.status, StatusCode::OK);
    assert_eq!(rate.body["resources"]["core"]["remaining"], 0);
    assert_eq!(rate.body["rate"]["limit"], 3);
    assert_eq!(rate.body["rate"]["reset"], reset);
    assert_eq!(sim.counted_calls(), 4);

    // after the reset time the budget is full again
    let now = crate::time::now_ms() / 1000;
    tokio::time::sleep(Duration::from_millis(
        u64::try_from((reset - now + 1) * 1000)
            .unwrap_or(0)
            .min(3000),
    ))
    .await;
    let refilled = send(&client, &url, t1, &[]).await;
    assert_eq!(refilled.status, StatusCode::OK);
    assert_eq!(refilled.number("x-ratelimit-remaining"), 2);

    // set_remaining: a budget of one, then refused
    sim.set_remaining("t2", 1, Duration::from_secs(60));
    assert_eq!(sim.remaining("t2"), 1);
    let last = send(&client, &url, Some("Bearer t2"), &[]).await;
    assert_eq!(last.number("x-ratelimit-remaining"), 0);
    let after = send(&client, &url, Some("Bearer t2"), &[]).await;
    assert_eq!(after.status, StatusCode::FORBIDDEN);
    let wait = after.number("x-ratelimit-reset") - crate::time::now_ms() / 1000;
    assert!((55..=61).contains(&wait), "{wait}");
    sim.shutdown();
}

#[tokio::test]
async fn secondary_limit_on_demand() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let url = format!("{}/repos/acme/repo-01/pulls", sim.base_url());
    let first = get(&client, &url).await;
    assert_eq!(first.number("x-ratelimit-remaining"), 4999);

    sim.add_secondary_limit(2, Some(7));
    sim.add_secondary_limit(1, None);
    for retry in [Some("7"), Some("7"), None] {
        let got = send(&client, &url, Some(&format!("Bearer {TOKEN}")), &[]).await;
        assert_eq!(got.status, StatusCode::FORBIDDEN);
        assert_eq!(got.header("retry-after"), retry);
        assert!(text(&got.body, "message").contains("secondary rate limit"));
        assert_eq!(got.number("x-ratelimit-remaining"), 4999);
    }
    let ok = get(&client, &url).await;
    assert_eq!(ok.number("x-ratelimit-remaining"), 4998);
    assert_eq!(sim.counted_calls(), 2);
    assert_eq!(sim.request_count(PULLS), 5);
    sim.shutdown();
}

#[tokio::test]
async fn bad_credentials() {
    let sim = start(GithubSimulatorConfig {
        tokens: vec!["good".into(), "second".into()],
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let url = format!("{}/user", sim.base_url());
    for auth in [
        None,
        Some("Bearer bad"),
        Some("Basic Z29vZA=="),
        Some("token "),
    ] {
        let got = send(&client, &url, auth, &[]).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(got.body["message"], "Bad credentials");
        assert!(got.body["documentation_url"].is_string());
        assert!(got.header("x-ratelimit-limit").is_some());
        assert_eq!(got.header("x-oauth-scopes"), Some("repo, read:org"));
    }
    let me = send(&client, &url, Some("token second"), &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["login"], "sim-user-2");
    assert_eq!(me.body["type"], "User");
    assert_eq!(sim.counted_calls(), 1);
    assert_eq!(sim.request_count(USER), 5);
    sim.shutdown();
}

#[tokio::test]
async fn enterprise_prefix_serves_everything() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let enterprise = sim.enterprise_base_url();
    assert_eq!(enterprise, format!("{}/api/v3", sim.base_url()));
    let first = format!("{enterprise}/repos/acme/repo-01/pulls?state=all&per_page=30");
    let page = get(&client, &first).await;
    assert!(page.links()["next"].starts_with(&format!("{enterprise}/repositories/")));
    assert!(text(&page.items()[0], "url").starts_with(&enterprise));
    let (items, _) = walk(&client, &first).await;
    assert_eq!(items.len(), 75);
    assert_eq!(sim.request_count(PULLS), 4);
    let me = get(&client, &format!("{enterprise}/user")).await;
    assert!(text(&me.body, "url").starts_with(&enterprise));
    let rate = get(&client, &format!("{enterprise}/rate_limit")).await;
    assert!(rate.body["resources"]["core"]["limit"].is_number());
    let missing = send(
        &client,
        &format!("{enterprise}/repos/acme/nope"),
        Some("token x"),
        &[],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["message"], "Not Found");
    sim.shutdown();
}

/// Jira keys a text mentions, among `keys`.
fn keys_in(text: &str, keys: &[String], out: &mut BTreeSet<String>) {
    for key in keys {
        let mut rest = text;
        while let Some(at) = rest.find(&format!("{key}-")) {
            let after = &rest[at + key.len() + 1..];
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let boundary = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
            if !digits.is_empty() && boundary {
                out.insert(format!("{key}-{digits}"));
            }
            rest = after;
        }
    }
}

#[tokio::test]
async fn counts_match_what_paging_returns() {
    let spec = GithubSpec {
        repos: 2,
        prs_per_repo: 14,
        commits_per_pr: 4,
        reviews_per_pr: 2,
        review_comments_per_pr: 3,
        issue_comments_per_pr: 2,
        mention_every: 3,
        ..GithubSpec::default()
    };
    let dataset = GithubDataset::generated(spec.clone());
    let expected_mentions = dataset.mentioned_keys();
    let sim = start(GithubSimulatorConfig {
        dataset: dataset.clone(),
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let base = sim.base_url();
    let (repos, _) = walk(
        &client,
        &format!("{base}/orgs/acme/repos?type=all&per_page=1"),
    )
    .await;
    assert_eq!(repos.len(), dataset.repo_count());

    let (mut prs, mut commits, mut reviews, mut review_comments, mut issue_comments) =
        (0, 0, 0, 0, 0);
    let mut mentions: BTreeMap<(String, u64), BTreeSet<String>> = BTreeMap::new();
    for repo in &repos {
        let full = text(repo, "full_name");
        let url = format!("{base}/repos/{full}/pulls?state=all&per_page=5");
        let (pulls, _) = walk(&client, &url).await;
        prs += pulls.len();
        for pull in &pulls {
            let n = pull["number"].as_u64().unwrap_or(0);
            let mut found = BTreeSet::new();
            keys_in(text(pull, "title"), &spec.jira_keys, &mut found);
            keys_in(text(&pull["head"], "ref"), &spec.jira_keys, &mut found);
            let pr = format!("{base}/repos/{full}/pulls/{n}");
            let (list, _) = walk(&client, &format!("{pr}/commits?per_page=3")).await;
            for commit in &list {
                keys_in(
                    text(&commit["commit"], "message"),
                    &spec.jira_keys,
                    &mut found,
                );
            }
            commits += list.len();
            reviews += walk(&client, &format!("{pr}/reviews")).await.0.len();
            review_comments += walk(&client, &format!("{pr}/comments?per_page=2"))
                .await
                .0
                .len();
            let issue = format!("{base}/repos/{full}/issues/{n}/comments");
            issue_comments += walk(&client, &issue).await.0.len();
            if !found.is_empty() {
                mentions.insert((full.to_owned(), n), found);
            }
            let single = get(&client, &pr).await.body;
            assert_eq!(single["commits"], spec.commits_per_pr);
            assert_eq!(single["review_comments"], spec.review_comments_per_pr);
            assert_eq!(single["comments"], spec.issue_comments_per_pr);
            assert_eq!(single["title"], pull["title"]);
        }
        // the repository-wide listings hold the same comments
        let all = walk(
            &client,
            &format!("{base}/repos/{full}/pulls/comments?sort=updated&direction=asc&per_page=7"),
        )
        .await
        .0;
        assert_eq!(all.len(), 14 * 3);
        let all = walk(
            &client,
            &format!("{base}/repos/{full}/issues/comments?sort=updated&direction=asc&per_page=100"),
        )
        .await
        .0;
        assert_eq!(all.len(), 14 * 2);
        for comment in &all {
            let number: u64 = text(comment, "issue_url")
                .rsplit_once("/issues/")
                .and_then(|(_, n)| n.parse().ok())
                .expect("issue_url ends with /issues/{number}");
            assert!((1..=14).contains(&number));
        }
    }
    assert_eq!(prs, dataset.pr_count());
    assert_eq!(commits, dataset.commit_count());
    assert_eq!(reviews, dataset.review_count());
    assert_eq!(review_comments, dataset.review_comment_count());
    assert_eq!(issue_comments, dataset.issue_comment_count());
    assert_eq!(mentions, expected_mentions);
    assert_eq!(expected_mentions.len(), 2 * 4);
    sim.shutdown();
}

#[tokio::test]
async fn repo_wide_comments_filter_and_sort() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let base = format!("{}/repos/acme/repo-01", sim.base_url());
    let (all, _) = walk(
        &client,
        &format!("{base}/pulls/comments?sort=updated&direction=asc&per_page=100"),
    )
    .await;
    assert_eq!(all.len(), 75 * 3);
    let updated: Vec<&str> = all.iter().map(|c| text(c, "updated_at")).collect();
    assert!(updated.windows(2).all(|w| w[0] <= w[1]));
    let ids: BTreeSet<u64> = all.iter().filter_map(|c| c["id"].as_u64()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");
    assert!(
        all.iter()
            .all(|c| text(c, "pull_request_url").contains("/pulls/"))
    );
    assert!(all.iter().any(|c| c["in_reply_to_id"].is_u64()));

    let cut = updated[150];
    let since =
        format!("{base}/pulls/comments?sort=updated&direction=asc&since={cut}&per_page=100");
    let (recent, _) = walk(&client, &since).await;
    let expected = updated.iter().filter(|u| **u >= cut).count();
    assert_eq!(recent.len(), expected);
    assert!(recent.iter().all(|c| text(c, "updated_at") >= cut));

    // default order is creation (= id) order
    let (created, _) = walk(&client, &format!("{base}/issues/comments?per_page=100")).await;
    let ids: Vec<u64> = created.iter().filter_map(|c| c["id"].as_u64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let desc = get(
        &client,
        &format!("{base}/issues/comments?sort=created&direction=desc&per_page=3"),
    )
    .await;
    assert_eq!(desc.items()[0]["id"].as_u64(), ids.last().copied());

    let bad = send(
        &client,
        &format!("{base}/issues/comments?since=yesterday"),
        Some("token x"),
        &[],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown();
}

#[tokio::test]
async fn bump_updated_changes_exactly_those_pulls() {
    let dataset = GithubDataset::generated(small_spec());
    let sim = start(GithubSimulatorConfig {
        dataset: dataset.clone(),
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let base = sim.base_url();
    let snapshot = |items: Vec<Value>| -> BTreeMap<u64, Value> {
        items
            .into_iter()
            .map(|p| (p["number"].as_u64().unwrap_or(0), p))
            .collect()
    };
    let list = |repo: &str| format!("{base}/repos/acme/{repo}/pulls?state=all&per_page=100");
    let before_1 = snapshot(walk(&client, &list("repo-01")).await.0);
    let before_2 = snapshot(walk(&client, &list("repo-02")).await.0);
    let started = crate::time::now_ms() / 1000;

    let bumped = sim.bump_updated(0.1, 99);
    assert_eq!(bumped.len(), 15, "a tenth of 150");
    let mut sorted = bumped.clone();
    sorted.sort();
    assert_eq!(bumped, sorted);
    // deterministic: another simulator of the same data bumps the same pull requests
    let twin = start(GithubSimulatorConfig {
        dataset,
        ..GithubSimulatorConfig::default()
    })
    .await;
    assert_eq!(twin.bump_updated(0.1, 99), bumped);
    assert_ne!(twin.bump_updated(0.1, 100), bumped);
    assert_eq!(twin.bump_updated(0.001, 5).len(), 1, "at least one");
    assert!(twin.bump_updated(0.0, 5).is_empty());
    assert_eq!(twin.bump_updated(2.0, 5).len(), 150);

    let stamp = |p: &Value| text(p, "updated_at").to_owned();
    let started_text = super::json::timestamp(started);
    for (repo, before) in [("repo-01", before_1), ("repo-02", before_2)] {
        let after = snapshot(walk(&client, &list(repo)).await.0);
        for (n, pull) in &after {
            let full = format!("acme/{repo}");
            let was = &before[n];
            if bumped.contains(&(full.clone(), *n)) {
                assert!(stamp(pull) >= started_text, "{full}#{n} bumped");
                let comments = walk(&client, &format!("{base}/repos/{full}/issues/{n}/comments"))
                    .await
                    .0;
                assert_eq!(comments.len(), 3);
                assert!(text(&comments[2], "created_at") >= started_text.as_str());
                let single = get(&client, &format!("{base}/repos/{full}/pulls/{n}"))
                    .await
                    .body;
                assert_eq!(single["comments"], 3);
            } else {
                assert_eq!(pull, was, "{full}#{n} untouched");
            }
        }
    }
    // the repository-wide listing with `since` shows exactly the new comments
    let since = format!(
        "{base}/repos/acme/repo-01/issues/comments?sort=updated&direction=asc&since={started_text}"
    );
    let (new, _) = walk(&client, &since).await;
    let in_repo = bumped.iter().filter(|(r, _)| r == "acme/repo-01").count();
    assert_eq!(new.len(), in_repo);
    sim.shutdown();
    twin.shutdown();
}

#[tokio::test]
async fn fixtures_are_served_on_their_recorded_urls() {
    let sim = start(GithubSimulatorConfig::default()).await;
    let client = client();
    let base = sim.base_url();

    let repo = get(&client, &format!("{base}/repos/PyGithub/PyGithub"))
        .await
        .body;
    assert_eq!(repo["id"], 3_544_490);
    assert_eq!(repo["full_name"], "PyGithub/PyGithub");
    let by_id = get(&client, &format!("{base}/repositories/3544490"))
        .await
        .body;
    assert_eq!(by_id, repo);

    let closed = get(
        &client,
        &format!("{base}/repos/PyGithub/PyGithub/pulls?state=closed"),
    )
    .await;
    assert_eq!(numbers(closed.items()), [39, 32, 31]);
    let open = get(&client, &format!("{base}/repos/PyGithub/PyGithub/pulls")).await;
    assert!(open.items().is_empty(), "#32 was closed later");
    let pull = get(&client, &format!("{base}/repos/PyGithub/PyGithub/pulls/31"))
        .await
        .body;
    assert_eq!(pull["title"], "Title edited by PyGithub");
    assert_eq!(pull["merged"], true);
    let listed = get(&client, &format!("{base}/repos/PyGithub/PyGithub/pulls/39"))
        .await
        .body;
    assert_eq!(listed["number"], 39);

    let pr = format!("{base}/repos/PyGithub/PyGithub/pulls");
    assert_eq!(
        get(&client, &format!("{pr}/31/commits"))
            .await
            .items()
            .len(),
        3
    );
    let comments = get(&client, &format!("{pr}/31/comments")).await;
    assert_eq!(comments.items().len(), 2);
    assert_eq!(
        get(&client, &format!("{pr}/538/reviews")).await.items()[0]["id"],
        28_482_091
    );
    assert!(
        get(&client, &format!("{pr}/32/commits"))
            .await
            .items()
            .is_empty()
    );
    let missing = send(&client, &format!("{pr}/538"), Some("token x"), &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let missing = send(&client, &format!("{pr}/999/commits"), Some("token x"), &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // the recorded three pages, with the recorded /repositories/{id}/ next links
    let first = format!("{base}/repos/PyGithub/PyGithub/issues/1136/comments?per_page=3");
    let page = get(&client, &first).await;
    assert_eq!(
        page.links()["next"],
        format!("{base}/repositories/3544490/issues/1136/comments?per_page=3&page=2")
    );
    let (all, urls) = walk(&client, &first).await;
    let ids: Vec<u64> = all.iter().filter_map(|c| c["id"].as_u64()).collect();
    assert_eq!(
        ids,
        [
            520_169_504,
            1_879_739_410,
            1_879_763_065,
            2_009_839_192,
            2_011_931_389,
            2_012_384_661,
            2_016_818_677
        ]
    );
    assert_eq!(urls.len(), 3);
    let old = get(
        &client,
        &format!("{base}/repos/PyGithub/PyGithub/issues/28/comments"),
    )
    .await;
    assert!(text(&old.items()[0], "issue_url").ends_with("/issues/28"));
    let repo_wide = get(
        &client,
        &format!("{base}/repos/PyGithub/PyGithub/issues/comments?per_page=100"),
    )
    .await;
    assert_eq!(repo_wide.items().len(), 9);
    let review_comments = get(
        &client,
        &format!("{base}/repos/PyGithub/PyGithub/pulls/comments?sort=updated&direction=desc"),
    )
    .await;
    assert_eq!(review_comments.items()[0]["id"], 197_784_357);

    let beaver = get(
        &client,
        &format!("{base}/orgs/BeaverSoftware/repos?type=all"),
    )
    .await;
    let names: BTreeSet<&str> = beaver
        .items()
        .iter()
        .map(|r| text(r, "full_name"))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["BeaverSoftware/FatherBeaver", "BeaverSoftware/TestPyGithub"])
    );
    let nobody = send(
        &client,
        &format!("{base}/orgs/nobody/repos"),
        Some("token x"),
        &[],
    )
    .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.bump_updated(1.0, 1), Vec::new());
    sim.shutdown();
}

#[tokio::test]
async fn generated_data_is_deterministic_and_varied() {
    let spec = GithubSpec {
        repos: 1,
        prs_per_repo: 300,
        ..GithubSpec::default()
    };
    let a = generated_sim(spec.clone()).await;
    let b = generated_sim(spec.clone()).await;
    let c = generated_sim(GithubSpec { seed: 7, ..spec }).await;
    let client = client();
    let path = "/repos/acme/repo-01/pulls?state=all&per_page=100&page=2";
    let page_a = get(&client, &format!("{}{path}", a.base_url())).await.body;
    let page_b = get(&client, &format!("{}{path}", b.base_url())).await.body;
    let page_c = get(&client, &format!("{}{path}", c.base_url())).await.body;
    let strip = |v: &Value| {
        v.to_string()
            .replace(&a.base_url(), "")
            .replace(&b.base_url(), "")
            .replace(&c.base_url(), "")
    };
    assert_eq!(strip(&page_a), strip(&page_b));
    assert_ne!(strip(&page_a), strip(&page_c));

    let (pulls, _) = walk(
        &client,
        &format!(
            "{}/repos/acme/repo-01/pulls?state=all&per_page=100",
            a.base_url()
        ),
    )
    .await;
    let now = super::json::timestamp(crate::time::now_ms() / 1000);
    let year_ago = super::json::timestamp(crate::time::now_ms() / 1000 - 367 * 86_400);
    let has = |f: &dyn Fn(&Value) -> bool| pulls.iter().any(f);
    assert!(has(
        &|p| p["user"]["login"] == "ghost" && p["user"]["id"] == 10_137
    ));
    assert!(has(&|p| p["body"].is_null()));
    assert!(has(&|p| p["draft"] == true && p["state"] == "open"));
    assert!(has(&|p| p["merged_at"].is_string()));
    assert!(has(&|p| p["state"] == "closed" && p["merged_at"].is_null()));
    assert!(has(&|p| !text(p, "title").is_ascii()));
    assert!(has(&|p| p["user"]["type"] == "Bot"));
    for p in &pulls {
        let (created, updated) = (text(p, "created_at"), text(p, "updated_at"));
        assert!(created <= updated && updated <= now.as_str() && created >= year_ago.as_str());
        if let Some(closed) = p["closed_at"].as_str() {
            assert!(closed <= updated);
        }
        assert_eq!(p["head"]["repo"]["full_name"], "acme/repo-01");
        assert_eq!(p["base"]["ref"], "main");
        assert_eq!(p["head"]["sha"].as_str().map(str::len), Some(40));
    }
    // updated_at is at or after every review and comment
    let mut null_authors = 0;
    for p in pulls.iter().take(60) {
        let n = p["number"].as_u64().unwrap_or(0);
        let pr = format!("{}/repos/acme/repo-01/pulls/{n}", a.base_url());
        let updated = text(p, "updated_at");
        for review in get(&client, &format!("{pr}/reviews")).await.items() {
            assert!(text(review, "submitted_at") <= updated);
            assert!(
                ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"].contains(&text(review, "state"))
            );
        }
        for comment in get(&client, &format!("{pr}/comments")).await.items() {
            assert!(text(comment, "updated_at") <= updated);
        }
        let issue = format!("{}/repos/acme/repo-01/issues/{n}/comments", a.base_url());
        for comment in get(&client, &issue).await.items() {
            assert!(text(comment, "updated_at") <= updated);
        }
        let commits = get(&client, &format!("{pr}/commits")).await;
        null_authors += commits
            .items()
            .iter()
            .filter(|c| c["author"].is_null())
            .count();
        assert_eq!(
            commits.items().last().map(|c| text(c, "sha")),
            p["head"]["sha"].as_str()
        );
    }
    assert!(null_authors > 0);
    a.shutdown();
    b.shutdown();
    c.shutdown();
}

#[tokio::test]
async fn latency_and_unknown_paths() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    sim.add_latency(120);
    let started = Instant::now();
    get(&client, &format!("{}/repos/acme/repo-01", sim.base_url())).await;
    assert!(started.elapsed() >= Duration::from_millis(120));
    sim.add_latency(0);
    let unknown = send(
        &client,
        &format!("{}/repos/acme/repo-01/branches", sim.base_url()),
        Some("token x"),
        &[],
    )
    .await;
    // (How fast the answer comes without latency is for benchmarks, not a wall-clock bound a
    // loaded CI machine can miss.)
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.request_count("GET /repos/acme/repo-01/branches"), 1);
    let pull = send(
        &client,
        &format!("{}/repos/acme/repo-01/pulls/76", sim.base_url()),
        Some("token x"),
        &[],
    )
    .await;
    assert_eq!(pull.status, StatusCode::NOT_FOUND);
    let pull = send(
        &client,
        &format!("{}/repos/acme/repo-01/pulls/x", sim.base_url()),
        Some("token x"),
        &[],
    )
    .await;
    assert_eq!(pull.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.request_count(PULL), 2);
    sim.shutdown();
}

/// 50k pull requests are built and paged correctly; the timings are printed for the reader
/// (speed is measured by bench/, not asserted against a wall clock here).
#[test]
fn large_dataset_builds_and_pages() {
    let started = Instant::now();
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 20,
        prs_per_repo: 2_500,
        ..GithubSpec::default()
    });
    let built = started.elapsed();
    assert_eq!(dataset.pr_count(), 50_000);
    let shared = state::GhShared::new(
        GithubSimulatorConfig {
            dataset,
            ..GithubSimulatorConfig::default()
        },
        "http://127.0.0.1:1".into(),
    );
    let request = api::Request {
        sim: &shared,
        root: 0,
        params: api::parse_query("state=all&sort=updated&direction=desc&per_page=100&page=3"),
        raw_query: "state=all&sort=updated&direction=desc&per_page=100&page=3",
    };
    let route = api::parse("/repos/acme/repo-07/pulls");
    let started = Instant::now();
    let rounds = 10;
    let mut bytes = 0;
    for _ in 0..rounds {
        let answer = api::answer(&request, &route);
        assert_eq!(answer.status, StatusCode::OK);
        bytes = answer.body.len();
    }
    let per_page = started.elapsed() / rounds;
    let page: Value = serde_json::from_str(&api::answer(&request, &route).body).expect("json");
    assert_eq!(page.as_array().map(Vec::len), Some(100));
    eprintln!(
        "50k pull requests built in {built:?}; a page of 100 ({bytes} bytes) in {per_page:?}"
    );
    assert!(bytes > 0);
}
