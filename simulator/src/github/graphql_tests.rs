//! End-to-end tests of the GitHub simulator's GraphQL endpoint, its limits (cost, nodes,
//! primary per resource, secondary in time) and comment edits, over loopback HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::tests::{Got, TOKEN, generated_sim, get, send, small_spec, start, text, walk};
use super::*;
use crate::tests::client;

const PULL_FIELDS: &str = "
    id databaseId number title body state isDraft merged
    author { login }
    baseRefName headRefName headRefOid
    createdAt updatedAt mergedAt closedAt
    additions deletions changedFiles
    mergedBy { login }
    url
    commits(first: $inner) { totalCount pageInfo { hasNextPage endCursor }
      nodes { commit { oid message url author { name email date user { login } } committer { date } } } }
    reviews(first: $inner) { totalCount pageInfo { hasNextPage endCursor }
      nodes { databaseId author { login } state body submittedAt commit { oid } } }
    comments(first: $inner) { totalCount pageInfo { hasNextPage endCursor }
      nodes { databaseId author { login } body createdAt updatedAt url } }";

/// The brief's page query: pull requests by UPDATED_AT DESC with their children.
fn page_query() -> String {
    format!(
        "query($owner: String!, $name: String!, $first: Int!, $after: String, $inner: Int!) {{
          rateLimit {{ cost limit remaining used resetAt nodeCount }}
          repository(owner: $owner, name: $name) {{
            databaseId nameWithOwner
            pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
              totalCount
              pageInfo {{ hasNextPage endCursor }}
              nodes {{ {PULL_FIELDS} }}
            }}
          }}
        }}"
    )
}

async fn post(client: &Client, url: &str, auth: Option<&str>, body: String) -> Got {
    let mut request = client.post(url).body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.expect("send");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
    Got {
        status,
        headers,
        body,
    }
}

/// POST /graphql as `token`.
async fn query_as(
    client: &Client,
    sim: &GithubSimulator,
    token: &str,
    query: &str,
    variables: Value,
) -> Got {
    let body = json!({"query": query, "variables": variables}).to_string();
    let url = format!("{}/graphql", sim.base_url());
    post(client, &url, Some(&format!("Bearer {token}")), body).await
}

async fn query(client: &Client, sim: &GithubSimulator, query: &str, variables: Value) -> Got {
    let got = query_as(client, sim, TOKEN, query, variables).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    got
}

fn page_vars(owner: &str, name: &str, first: u32, after: Option<&str>, inner: u32) -> Value {
    json!({"owner": owner, "name": name, "first": first, "after": after, "inner": inner})
}

fn login(account: &Value) -> Value {
    match account {
        Value::Null => Value::Null,
        account => json!({ "login": account["login"] }),
    }
}

fn connection(nodes: Vec<Value>) -> Value {
    json!({
        "totalCount": nodes.len(),
        "pageInfo": {"hasNextPage": false},
        "nodes": nodes,
    })
}

/// A pull request as the page query must answer it, from the REST answers.
fn expected_pull(pull: &Value, commits: &[Value], reviews: &[Value], comments: &[Value]) -> Value {
    let merged_at = !pull["merged_at"].is_null();
    let state = if pull["merged"] == true || merged_at {
        "MERGED".to_owned()
    } else {
        text(pull, "state").to_uppercase()
    };
    let commits = commits
        .iter()
        .map(|c| {
            json!({"commit": {
                "oid": c["sha"],
                "message": c["commit"]["message"],
                "url": c["html_url"],
                "author": {
                    "name": c["commit"]["author"]["name"],
                    "email": c["commit"]["author"]["email"],
                    "date": c["commit"]["author"]["date"],
                    "user": login(&c["author"]),
                },
                "committer": {"date": c["commit"]["committer"]["date"]},
            }})
        })
        .collect();
    let reviews = reviews
        .iter()
        .map(|r| {
            json!({
                "databaseId": r["id"],
                "author": login(&r["user"]),
                "state": r["state"],
                "body": r["body"],
                "submittedAt": r["submitted_at"],
                "commit": {"oid": r["commit_id"]},
            })
        })
        .collect();
    let comments = comments
        .iter()
        .map(|c| {
            json!({
                "databaseId": c["id"],
                "author": login(&c["user"]),
                "body": c["body"],
                "createdAt": c["created_at"],
                "updatedAt": c["updated_at"],
                "url": c["html_url"],
            })
        })
        .collect();
    json!({
        "id": pull["node_id"],
        "databaseId": pull["id"],
        "number": pull["number"],
        "title": pull["title"],
        "body": if pull["body"].is_null() { json!("") } else { pull["body"].clone() },
        "state": state,
        "isDraft": pull["draft"].as_bool().unwrap_or(false),
        "merged": pull["merged"].as_bool().unwrap_or(merged_at),
        "author": login(&pull["user"]),
        "baseRefName": pull["base"]["ref"],
        "headRefName": pull["head"]["ref"],
        "headRefOid": pull["head"]["sha"],
        "createdAt": pull["created_at"],
        "updatedAt": pull["updated_at"],
        "mergedAt": pull["merged_at"],
        "closedAt": pull["closed_at"],
        "additions": pull["additions"],
        "deletions": pull["deletions"],
        "changedFiles": pull["changed_files"],
        "mergedBy": login(&pull["merged_by"]),
        "url": pull["html_url"],
        "commits": connection(commits),
        "reviews": connection(reviews),
        "comments": connection(comments),
    })
}

/// A node without its children's end cursors (opaque), which must be strings when there are
/// children.
fn without_cursors(mut node: Value) -> Value {
    for key in ["commits", "reviews", "comments"] {
        let info = &mut node[key]["pageInfo"];
        let cursor = info["endCursor"].take();
        let empty = node[key]["totalCount"] == 0;
        assert!(empty || cursor.is_string(), "{key}: {cursor}");
        if let Some(info) = node[key]["pageInfo"].as_object_mut() {
            info.remove("endCursor");
        }
    }
    node
}

/// Every node of `owner/name`'s pull requests, paging `first` at a time; also the pages'
/// answers.
async fn all_pulls(
    client: &Client,
    sim: &GithubSimulator,
    owner: &str,
    name: &str,
    first: u32,
) -> (Vec<Value>, Vec<Value>) {
    let (mut nodes, mut pages) = (Vec::new(), Vec::new());
    let mut after: Option<String> = None;
    loop {
        let vars = page_vars(owner, name, first, after.as_deref(), 100);
        let page = query(client, sim, &page_query(), vars).await.body;
        assert!(page.get("errors").is_none(), "{page}");
        let connection = &page["data"]["repository"]["pullRequests"];
        nodes.extend(
            connection["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .cloned(),
        );
        let next = connection["pageInfo"]["hasNextPage"] == true;
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
        pages.push(page);
        if !next {
            break;
        }
        assert!(pages.len() < 100, "paging does not end");
    }
    (nodes, pages)
}

/// Compares every node with the REST answers of its pull request.
async fn assert_matches_rest(client: &Client, repo_url: &str, nodes: &[Value]) {
    for node in nodes {
        let n = node["number"].as_u64().expect("number");
        let pull = get(client, &format!("{repo_url}/pulls/{n}")).await.body;
        let listing = |path: String| async move {
            walk(client, &format!("{repo_url}/{path}?per_page=100"))
                .await
                .0
        };
        let commits = listing(format!("pulls/{n}/commits")).await;
        let reviews = listing(format!("pulls/{n}/reviews")).await;
        let comments = listing(format!("issues/{n}/comments")).await;
        let expected = expected_pull(&pull, &commits, &reviews, &comments);
        assert_eq!(without_cursors(node.clone()), expected, "#{n}");
    }
}

#[tokio::test]
async fn graphql_pages_equal_the_rest_answers() {
    let sim = generated_sim(GithubSpec {
        repos: 2,
        prs_per_repo: 23,
        ..GithubSpec::default()
    })
    .await;
    let client = client();
    // bumped pull requests move to the front and carry a new comment; edits show too
    sim.bump_updated(0.2, 5);
    sim.edit_comments(0.3, 6);
    let repo_url = format!("{}/repos/acme/repo-01", sim.base_url());

    let (nodes, pages) = all_pulls(&client, &sim, "acme", "repo-01", 5).await;
    assert_eq!(pages.len(), 5);
    let numbers: Vec<u64> = nodes.iter().filter_map(|n| n["number"].as_u64()).collect();
    let rest = get(
        &client,
        &format!("{repo_url}/pulls?state=all&sort=updated&direction=desc&per_page=100"),
    )
    .await;
    let rest_numbers: Vec<u64> = rest
        .items()
        .iter()
        .filter_map(|p| p["number"].as_u64())
        .collect();
    assert_eq!(numbers, rest_numbers, "UPDATED_AT DESC is the REST order");
    assert_eq!(
        numbers.iter().collect::<BTreeSet<_>>().len(),
        23,
        "each once"
    );
    let repository = &pages[0]["data"]["repository"];
    assert_eq!(repository["nameWithOwner"], "acme/repo-01");
    assert_eq!(
        repository["databaseId"],
        get(&client, &repo_url).await.body["id"]
    );
    assert_eq!(repository["pullRequests"]["totalCount"], 23);
    assert_matches_rest(&client, &repo_url, &nodes).await;
    sim.shutdown();
}

#[tokio::test]
async fn graphql_raw_answers_keep_query_order() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let response = client
        .post(format!("{}/graphql", sim.base_url()))
        .header("authorization", format!("token {TOKEN}"))
        .body(
            json!({"query": "{ repository(owner: \"acme\", name: \"repo-02\") { n: nameWithOwner databaseId pullRequest(number: 2) { url number t: __typename } } }"})
                .to_string(),
        )
        .send()
        .await
        .expect("send");
    let raw = response.text().await.expect("body");
    let at = |key: &str| raw.find(key).unwrap_or_else(|| panic!("{key} in {raw}"));
    assert!(at("\"n\":") < at("\"databaseId\":"), "{raw}");
    assert!(at("\"databaseId\":") < at("\"pullRequest\":"), "{raw}");
    assert!(at("\"url\":") < at("\"number\":") && at("\"number\":") < at("\"t\":"));
    assert!(raw.contains("\"t\":\"PullRequest\""), "{raw}");
    assert!(!raw.contains("title"), "only what was asked: {raw}");
    sim.shutdown();
}

#[tokio::test]
async fn graphql_on_recorded_fixtures_equals_rest() {
    let sim = start(GithubSimulatorConfig::default()).await;
    let client = client();
    let (nodes, _) = all_pulls(&client, &sim, "PyGithub", "PyGithub", 2).await;
    let numbers: Vec<u64> = nodes.iter().filter_map(|n| n["number"].as_u64()).collect();
    let repo_url = format!("{}/repos/PyGithub/PyGithub", sim.base_url());
    let rest = get(
        &client,
        &format!("{repo_url}/pulls?state=all&sort=updated&direction=desc"),
    )
    .await;
    let rest_numbers: Vec<u64> = rest
        .items()
        .iter()
        .filter_map(|p| p["number"].as_u64())
        .collect();
    assert_eq!(numbers, rest_numbers);
    assert_eq!(numbers.len(), 3);
    assert_matches_rest(&client, &repo_url, &nodes).await;
    let pr31 = nodes.iter().find(|n| n["number"] == 31).expect("#31");
    assert_eq!(pr31["state"], "MERGED");
    assert_eq!(pr31["commits"]["totalCount"], 3);
    assert!(pr31["additions"].is_number());
    let pr39 = nodes.iter().find(|n| n["number"] == 39).expect("#39");
    assert!(pr39["additions"].is_null(), "not in the list form");

    // the recorded default order (CREATED_AT ASC) and a states filter
    let got = query(
        &client,
        &sim,
        "{ repository(owner: \"pygithub\", name: \"PYGITHUB\") {
            all: pullRequests(first: 10) { nodes { number } }
            merged: pullRequests(first: 10, states: [MERGED]) { totalCount }
            open: pullRequests(first: 10, states: OPEN) { totalCount } } }",
        json!({}),
    )
    .await
    .body;
    let repository = &got["data"]["repository"];
    assert_eq!(
        repository["all"]["nodes"],
        json!([{"number": 31}, {"number": 32}, {"number": 39}])
    );
    assert_eq!(repository["open"]["totalCount"], 0);
    assert!(repository["merged"]["totalCount"].as_u64() >= Some(1));
    sim.shutdown();
}

#[tokio::test]
async fn graphql_orders_filters_and_pages_children() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let base = format!("{}/repos/acme/repo-02", sim.base_url());
    let bumped = sim.bump_updated(0.1, 1);
    let (repo, n) = bumped
        .iter()
        .find(|(r, _)| r == "acme/repo-02")
        .cloned()
        .expect("a bump in repo-02");
    assert_eq!(repo, "acme/repo-02");

    // default order: CREATED_AT ASC, as GET pulls?state=all&direction=asc
    let got = query(
        &client,
        &sim,
        "{ repository(owner: \"acme\", name: \"repo-02\") {
            created: pullRequests(first: 100) { nodes { number } }
            open: pullRequests(first: 1, states: [OPEN]) { totalCount }
            asc: pullRequests(first: 100, orderBy: {field: UPDATED_AT, direction: ASC}) { edges { cursor node { number } } } } }",
        json!({}),
    )
    .await
    .body;
    let repository = &got["data"]["repository"];
    let numbers = |list: &Value, pointer: &str| -> Vec<u64> {
        list.as_array()
            .expect("list")
            .iter()
            .filter_map(|i| i.pointer(pointer).and_then(Value::as_u64))
            .collect()
    };
    assert_eq!(
        numbers(&repository["created"]["nodes"], "/number"),
        (1..=75).collect::<Vec<u64>>()
    );
    let open = get(&client, &format!("{base}/pulls?per_page=100")).await;
    assert_eq!(repository["open"]["totalCount"], open.items().len());
    let rest_asc = get(
        &client,
        &format!("{base}/pulls?state=all&sort=updated&direction=asc&per_page=100"),
    )
    .await;
    let rest_numbers: Vec<u64> = rest_asc
        .items()
        .iter()
        .filter_map(|p| p["number"].as_u64())
        .collect();
    assert_eq!(
        numbers(&repository["asc"]["edges"], "/node/number"),
        rest_numbers
    );

    // a bumped pull request's three comments, one at a time, in the REST order
    let one = "query($n: Int!, $cursor: String) { repository(owner: \"acme\", name: \"repo-02\") {
        pullRequest(number: $n) { comments(first: 1, after: $cursor) {
          totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { databaseId } } } } }";
    let mut cursor: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let page = query(&client, &sim, one, json!({"n": n, "cursor": cursor}))
            .await
            .body;
        let comments = &page["data"]["repository"]["pullRequest"]["comments"];
        assert_eq!(comments["totalCount"], 3, "{page}");
        assert_eq!(comments["pageInfo"]["hasPreviousPage"], cursor.is_some());
        ids.extend(numbers(&comments["nodes"], "/databaseId"));
        cursor = comments["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
        if comments["pageInfo"]["hasNextPage"] != true {
            break;
        }
    }
    let rest = get(&client, &format!("{base}/issues/{n}/comments")).await;
    let rest_ids: Vec<u64> = rest
        .items()
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    assert_eq!(ids, rest_ids);
    sim.shutdown();
}

#[tokio::test]
async fn graphql_costs_points_of_its_own_budget() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let got = query(
        &client,
        &sim,
        &page_query(),
        page_vars("acme", "repo-01", 100, None, 100),
    )
    .await;
    let rate = &got.body["data"]["rateLimit"];
    assert_eq!(rate["cost"], 3);
    assert_eq!(rate["nodeCount"], 30_100);
    assert_eq!(rate["limit"], 5000);
    assert_eq!(rate["remaining"], 4997);
    assert_eq!(rate["used"], 3);
    assert_eq!(got.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(got.number("x-ratelimit-remaining"), 4997);
    assert_eq!(got.number("x-ratelimit-used"), 3);
    assert_eq!(got.number("x-ratelimit-limit"), 5000);
    let reset = got.number("x-ratelimit-reset");
    assert_eq!(rate["resetAt"], super::json::timestamp(reset));
    assert_eq!(
        got.body["data"]["repository"]["pullRequests"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(75)
    );

    let small = query(
        &client,
        &sim,
        &page_query(),
        page_vars("acme", "repo-01", 20, None, 20),
    )
    .await;
    assert_eq!(small.body["data"]["rateLimit"]["cost"], 1);
    assert_eq!(
        small.body["data"]["rateLimit"]["nodeCount"],
        20 + 3 * 20 * 20
    );
    assert_eq!(small.number("x-ratelimit-remaining"), 4996);
    assert_eq!(sim.graphql_remaining(TOKEN), 4996);
    assert_eq!(sim.graphql_points_spent(), 4);
    assert_eq!(sim.graphql_query_count(), 2);
    assert_eq!(sim.request_count(GRAPHQL), 2);

    // the REST budget is untouched by GraphQL, and the other way round
    assert_eq!(sim.remaining(TOKEN), 5000);
    let rest = get(&client, &format!("{}/repos/acme/repo-01", sim.base_url())).await;
    assert_eq!(rest.header("x-ratelimit-resource"), Some("core"));
    assert_eq!(rest.number("x-ratelimit-remaining"), 4999);
    assert_eq!(sim.graphql_remaining(TOKEN), 4996);
    assert_eq!(sim.counted_calls(), 1);
    let limits = get(&client, &format!("{}/rate_limit", sim.base_url()))
        .await
        .body;
    assert_eq!(limits["resources"]["graphql"]["used"], 4);
    assert_eq!(limits["resources"]["graphql"]["remaining"], 4996);
    assert_eq!(limits["resources"]["core"]["remaining"], 4999);

    // GitHub Enterprise Server's path, with its own URLs
    let url = format!("{}/api/graphql", sim.base_url());
    let body = json!({"query": "{ repository(owner: \"acme\", name: \"repo-01\") { url pullRequest(number: 1) { url } } }"});
    let enterprise = post(
        &client,
        &url,
        Some(&format!("token {TOKEN}")),
        body.to_string(),
    )
    .await;
    assert_eq!(enterprise.status, StatusCode::OK);
    let pull = get(
        &client,
        &format!("{}/repos/acme/repo-01/pulls/1", sim.enterprise_base_url()),
    )
    .await;
    assert_eq!(
        enterprise.body["data"]["repository"]["pullRequest"]["url"],
        pull.body["html_url"]
    );
    assert!(text(&enterprise.body["data"]["repository"], "url").starts_with(&sim.base_url()));
    assert_eq!(sim.request_count(GRAPHQL), 3);
    sim.shutdown();
}

#[tokio::test]
async fn graphql_limits_refuse_without_spending() {
    let sim = start(GithubSimulatorConfig {
        dataset: GithubDataset::generated(small_spec()),
        graphql_node_limit: 10_000,
        tokens: vec![TOKEN.into()],
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let errors_only = |got: &Got| -> Vec<Value> {
        assert_eq!(got.status, StatusCode::OK);
        assert!(got.body.get("data").is_none(), "{}", got.body);
        got.body["errors"].as_array().cloned().expect("errors")
    };

    let got = query(
        &client,
        &sim,
        &page_query(),
        page_vars("acme", "repo-01", 100, None, 100),
    )
    .await;
    let errors = errors_only(&got);
    assert_eq!(errors[0]["type"], "MAX_NODE_LIMIT_EXCEEDED");
    assert_eq!(
        errors[0]["message"],
        "By the time this query traverses to the commits connection, it is requesting up to 10,100 possible nodes which exceeds the maximum limit of 10,000."
    );
    let got = query(
        &client,
        &sim,
        &page_query(),
        page_vars("acme", "repo-01", 101, None, 1),
    )
    .await;
    let errors = errors_only(&got);
    assert_eq!(errors[0]["type"], "EXCESSIVE_PAGINATION");
    assert_eq!(errors[0]["path"], json!(["repository", "pullRequests"]));
    let missing =
        "{ repository(owner: \"acme\", name: \"repo-01\") { pullRequests { totalCount } } }";
    let errors = errors_only(&query(&client, &sim, missing, json!({})).await);
    assert_eq!(errors[0]["type"], "MISSING_PAGINATION_BOUNDARIES");
    assert_eq!(
        errors[0]["message"],
        "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection."
    );

    // schema errors: GitHub's codes, no data
    let unknown = "{ repository(owner: \"acme\", name: \"repo-01\") { pullRequests(first: 1) { nodes { nope } } } }";
    let errors = errors_only(&query(&client, &sim, unknown, json!({})).await);
    assert_eq!(errors[0]["extensions"]["code"], "undefinedField");
    assert_eq!(errors[0]["extensions"]["typeName"], "PullRequest");
    assert_eq!(errors[0]["extensions"]["fieldName"], "nope");
    assert_eq!(
        errors[0]["message"],
        "Field 'nope' doesn't exist on type 'PullRequest'"
    );
    assert_eq!(
        errors[0]["path"],
        json!(["query", "repository", "pullRequests", "nodes", "nope"])
    );
    assert_eq!(errors[0]["locations"], json!([{"line": 1, "column": 81}]));
    let syntax =
        errors_only(&query(&client, &sim, "{ repository(owner: \"acme\" {", json!({})).await);
    assert!(
        text(&syntax[0], "message").starts_with("Parse error on"),
        "{syntax:?}"
    );
    let wrong = errors_only(&query(&client, &sim, &page_query(), json!({"owner": "acme"})).await);
    assert_eq!(
        wrong.len(),
        3,
        "name, first and inner are missing: {wrong:?}"
    );
    assert_eq!(sim.graphql_remaining(TOKEN), 5000, "nothing spent");
    assert_eq!(sim.graphql_points_spent(), 0);
    assert_eq!(sim.graphql_query_count(), 6, "answered, with errors");

    // a body that is not JSON, a bad token
    let url = format!("{}/graphql", sim.base_url());
    let bad = post(
        &client,
        &url,
        Some(&format!("Bearer {TOKEN}")),
        "query { }".into(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["message"], "Problems parsing JSON");
    let stranger = query_as(&client, &sim, "nobody", "{ viewer { login } }", json!({})).await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stranger.body["message"], "Bad credentials");

    // an exhausted budget: RATE_LIMITED with remaining 0, nothing spent
    sim.set_graphql_remaining(TOKEN, 2, Duration::from_secs(60));
    let got = query(
        &client,
        &sim,
        &page_query(),
        page_vars("acme", "repo-01", 100, None, 30),
    )
    .await;
    let errors = errors_only(&got);
    assert_eq!(errors[0]["type"], "RATE_LIMITED");
    assert_eq!(
        errors[0]["message"],
        "API rate limit already exceeded for user ID 8000001."
    );
    assert_eq!(got.number("x-ratelimit-remaining"), 0);
    assert_eq!(got.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(sim.graphql_remaining(TOKEN), 2);
    let viewer = query(
        &client,
        &sim,
        "{ viewer { login } rateLimit { cost remaining } }",
        json!({}),
    )
    .await;
    assert_eq!(
        viewer.body["data"],
        json!({"viewer": {"login": "sim-user-1"}, "rateLimit": {"cost": 1, "remaining": 1}})
    );
    query(&client, &sim, "{ viewer { login } }", json!({})).await;
    let spent = query(&client, &sim, "{ viewer { login } }", json!({})).await;
    assert_eq!(errors_only(&spent)[0]["type"], "RATE_LIMITED");
    assert_eq!(sim.remaining(TOKEN), 5000, "REST untouched");
    assert_eq!(sim.graphql_points_spent(), 2);
    assert_eq!(sim.graphql_query_count(), 10);
    assert_eq!(sim.request_count(GRAPHQL), 12, "also the 400 and the 401");
    sim.shutdown();
}

#[tokio::test]
async fn graphql_errors_while_running_and_on_demand() {
    let sim = generated_sim(small_spec()).await;
    let client = client();
    let missing = query(
        &client,
        &sim,
        "query($o: String!) { repository(owner: $o, name: \"nope\") { id } viewer { login } }",
        json!({"o": "acme"}),
    )
    .await
    .body;
    assert_eq!(
        missing["data"],
        json!({"repository": null, "viewer": {"login": "sim-user-1"}})
    );
    assert_eq!(missing["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(missing["errors"][0]["path"], json!(["repository"]));
    assert_eq!(
        missing["errors"][0]["message"],
        "Could not resolve to a Repository with the name 'acme/nope'."
    );
    let no_pull = query(
        &client,
        &sim,
        "{ repository(owner: \"acme\", name: \"repo-01\") { nameWithOwner pullRequest(number: 999) { id } } }",
        json!({}),
    )
    .await
    .body;
    assert_eq!(
        no_pull["data"]["repository"],
        json!({"nameWithOwner": "acme/repo-01", "pullRequest": null})
    );
    assert_eq!(
        no_pull["errors"][0]["path"],
        json!(["repository", "pullRequest"])
    );
    // a bad cursor nulls the (non-null) connection's repository
    let cursor = query(
        &client,
        &sim,
        "{ repository(owner: \"acme\", name: \"repo-01\") { pullRequests(first: 1, after: \"bm9wZQ==\") { totalCount } } }",
        json!({}),
    )
    .await
    .body;
    assert_eq!(cursor["data"], json!({"repository": null}));
    assert_eq!(cursor["errors"][0]["type"], "INVALID_CURSOR_ARGUMENTS");
    assert_eq!(
        cursor["errors"][0]["path"],
        json!(["repository", "pullRequests"])
    );

    // armed errors spend the cost and answer data: null
    let before = sim.graphql_remaining(TOKEN);
    sim.add_graphql_error(
        2,
        "SERVICE_UNAVAILABLE",
        "Something went wrong while executing your query.",
    );
    for _ in 0..2 {
        let got = query(
            &client,
            &sim,
            &page_query(),
            page_vars("acme", "repo-01", 100, None, 100),
        )
        .await;
        assert_eq!(got.body["data"], Value::Null);
        assert_eq!(got.body["errors"][0]["type"], "SERVICE_UNAVAILABLE");
        assert_eq!(
            got.body["errors"][0]["message"],
            "Something went wrong while executing your query."
        );
    }
    assert_eq!(sim.graphql_remaining(TOKEN), before - 6);
    // armed secondary limits apply to GraphQL too
    sim.add_secondary_limit(1, Some(3));
    let refused = query_as(&client, &sim, TOKEN, "{ viewer { login } }", json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.header("retry-after"), Some("3"));
    assert!(text(&refused.body, "message").contains("secondary rate limit"));
    assert_eq!(refused.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(sim.graphql_remaining(TOKEN), before - 6);
    assert_eq!(sim.secondary_refusals(), 1);
    let fine = query(&client, &sim, "{ viewer { login } }", json!({})).await;
    assert_eq!(fine.body["data"]["viewer"]["login"], "sim-user-1");
    sim.shutdown();
}

#[tokio::test]
async fn secondary_limits_in_time() {
    let sim = start(GithubSimulatorConfig {
        dataset: GithubDataset::generated(small_spec()),
        secondary: SecondaryLimits {
            max_concurrent: 2,
            rest_points_per_minute: 5,
            graphql_points_per_minute: 2,
        },
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let url = format!("{}/repos/acme/repo-01", sim.base_url());
    let as_token = |token: &str| format!("Bearer {token}");

    // REST: five points a minute, then a window until the first leaves the minute
    for _ in 0..5 {
        assert_eq!(
            send(&client, &url, Some(&as_token("a")), &[]).await.status,
            StatusCode::OK
        );
    }
    let sixth = send(&client, &url, Some(&as_token("a")), &[]).await;
    assert_eq!(sixth.status, StatusCode::FORBIDDEN);
    assert!(text(&sixth.body, "message").starts_with("You have exceeded a secondary rate limit"));
    let retry = sixth.number("retry-after");
    assert!((58..=60).contains(&retry), "{retry}");
    assert_eq!(sixth.number("x-ratelimit-remaining"), 4995, "nothing spent");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let during = send(&client, &url, Some(&as_token("a")), &[]).await;
    assert_eq!(during.status, StatusCode::FORBIDDEN);
    assert!(
        during.number("retry-after") < retry,
        "{}",
        during.number("retry-after")
    );
    // every request of the token is refused in its window, GraphQL too; others are not
    let graphql = query_as(&client, &sim, "a", "{ viewer { login } }", json!({})).await;
    assert_eq!(graphql.status, StatusCode::FORBIDDEN);
    assert_eq!(graphql.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(
        send(&client, &url, Some(&as_token("b")), &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(sim.remaining("a"), 4995);

    // GraphQL: two points a minute
    for _ in 0..2 {
        let ok = query_as(&client, &sim, "c", "{ viewer { login } }", json!({})).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let third = query_as(&client, &sim, "c", "{ viewer { login } }", json!({})).await;
    assert_eq!(third.status, StatusCode::FORBIDDEN);
    assert!(third.number("retry-after") >= 58);
    assert_eq!(sim.graphql_remaining("c"), 4998);

    // a short window opened by hand: refused with the seconds left, then served
    sim.open_secondary_window(Some("d"), Duration::from_millis(1_500));
    let refused = send(&client, &url, Some(&as_token("d")), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.header("retry-after"), Some("2"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = send(&client, &url, Some(&as_token("d")), &[]).await;
    assert_eq!(later.header("retry-after"), Some("1"));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        send(&client, &url, Some(&as_token("d")), &[]).await.status,
        StatusCode::OK
    );

    // concurrency: two in flight at most
    sim.add_latency(400);
    let racing: Vec<_> = (0..3)
        .map(|_| {
            let (client, url, auth) = (client.clone(), url.clone(), as_token("e"));
            tokio::spawn(async move { send(&client, &url, Some(&auth), &[]).await })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in racing {
        let got = task.await.expect("task");
        if got.status == StatusCode::FORBIDDEN {
            assert_eq!(got.header("retry-after"), Some("1"));
        }
        *statuses.entry(got.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 2), (403, 1)]));
    assert_eq!(sim.secondary_refusals(), 7);
    sim.shutdown();
}

#[tokio::test]
async fn edited_comments_show_without_moving_the_pull_request() {
    let dataset = GithubDataset::generated(small_spec());
    let sim = start(GithubSimulatorConfig {
        dataset: dataset.clone(),
        ..GithubSimulatorConfig::default()
    })
    .await;
    let client = client();
    let base = sim.base_url();
    let list = |repo: &str| format!("{base}/repos/acme/{repo}/pulls?state=all&per_page=100");
    let before = walk(&client, &list("repo-01")).await.0;
    let started = super::json::timestamp(crate::time::now_ms() / 1000);

    let edited = sim.edit_comments(0.05, 11);
    let mut sorted = edited.clone();
    sorted.sort();
    assert_eq!(edited, sorted);
    // eight pull requests (5% of 150), each one issue and one review comment
    assert_eq!(edited.len(), 16);
    let twin = start(GithubSimulatorConfig {
        dataset,
        ..GithubSimulatorConfig::default()
    })
    .await;
    assert_eq!(twin.edit_comments(0.05, 11), edited, "deterministic");
    assert_eq!(
        twin.edit_comments(0.001, 1).len(),
        2,
        "at least one pull request"
    );
    twin.shutdown();

    // pull requests do not move
    assert_eq!(walk(&client, &list("repo-01")).await.0, before);
    let ids: BTreeSet<u64> = edited
        .iter()
        .filter(|(r, _)| r == "acme/repo-01")
        .map(|(_, id)| *id)
        .collect();
    assert!(!ids.is_empty());
    let since = |kind: &str| {
        format!(
            "{base}/repos/acme/repo-01/{kind}/comments?sort=updated&direction=asc&since={started}&per_page=100"
        )
    };
    let mut seen = BTreeSet::new();
    let mut pulls = BTreeSet::new();
    for kind in ["issues", "pulls"] {
        for comment in walk(&client, &since(kind)).await.0 {
            assert!(text(&comment, "body").ends_with(" (edited)"), "{comment}");
            assert!(text(&comment, "updated_at") >= started.as_str());
            assert!(text(&comment, "created_at") < started.as_str());
            seen.insert(comment["id"].as_u64().unwrap_or(0));
            let url = comment
                .get("issue_url")
                .or_else(|| comment.get("pull_request_url"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            pulls.insert(
                url.rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .parse::<u64>()
                    .unwrap_or(0),
            );
        }
    }
    assert_eq!(seen, ids);
    // sorted by updated, the edited ones come last in the whole listing
    let all = walk(
        &client,
        &format!(
            "{base}/repos/acme/repo-01/issues/comments?sort=updated&direction=asc&per_page=100"
        ),
    )
    .await
    .0;
    let last = all.last().expect("comments");
    assert!(ids.contains(&last["id"].as_u64().unwrap_or(0)));

    // the pull request's own listings and GraphQL show the edit too
    for n in pulls {
        let comments = get(
            &client,
            &format!("{base}/repos/acme/repo-01/issues/{n}/comments"),
        )
        .await;
        let reviews = get(
            &client,
            &format!("{base}/repos/acme/repo-01/pulls/{n}/comments?since={started}"),
        )
        .await;
        let edited_here: Vec<&Value> = comments
            .items()
            .iter()
            .chain(reviews.items())
            .filter(|c| ids.contains(&c["id"].as_u64().unwrap_or(0)))
            .collect();
        assert!(!edited_here.is_empty(), "#{n}");
        let got = query(
            &client,
            &sim,
            "query($n: Int!) { repository(owner: \"acme\", name: \"repo-01\") { pullRequest(number: $n) {
                updatedAt comments(first: 100) { nodes { databaseId body updatedAt } } } } }",
            json!({"n": n}),
        )
        .await
        .body;
        let pull = &got["data"]["repository"]["pullRequest"];
        let was = before.iter().find(|p| p["number"] == n).expect("listed");
        assert_eq!(pull["updatedAt"], was["updated_at"]);
        let nodes = pull["comments"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), comments.items().len());
        for (node, rest) in nodes.iter().zip(comments.items()) {
            assert_eq!(
                (&node["databaseId"], &node["body"], &node["updatedAt"]),
                (&rest["id"], &rest["body"], &rest["updated_at"])
            );
        }
    }
    // recorded data is never edited
    let fixtures = start(GithubSimulatorConfig::default()).await;
    assert!(fixtures.edit_comments(1.0, 1).is_empty());
    fixtures.shutdown();
    sim.shutdown();
}
