//! search/jql: paging, field selection, JQL, ordering, errors, recorded issues.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::time::parse_timestamp;

#[tokio::test]
async fn pages_through_a_project_with_tokens() {
    let sim = generated_sim(250).await;
    let client = client();
    let params = [
        ("jql", "project = P0002"),
        ("maxResults", "100"),
        ("fields", "*all"),
    ];
    let (issues, sizes) = search_all(&client, &sim, &params).await;
    assert_eq!(sizes, [100, 100, 50]);
    let keys = keys(&issues);
    let unique: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), 250);
    assert!(keys.iter().all(|k| k.starts_with("P0002-")));
    // default order: key descending
    assert_eq!(keys[0], "P0002-250");
    assert_eq!(keys[249], "P0002-1");
    let first = &issues[0];
    assert_eq!(first["fields"]["project"]["key"], "P0002");
    assert!(first["fields"]["summary"].is_string());
    assert!(
        first["self"]
            .as_str()
            .is_some_and(|s| s.ends_with(first["id"].as_str().unwrap_or("?")))
    );
    assert_eq!(sim.request_count("GET /rest/api/3/search/jql"), 3);

    // POST takes the same names in a JSON body, fields as an array
    let url = format!("{}/rest/api/3/search/jql", sim.base_url());
    let body = json!({"jql": "project = P0002", "maxResults": 200, "fields": ["summary"]});
    let (status, page) = post(&client, &url, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page["issues"].as_array().map(Vec::len),
        Some(100),
        "capped at 100"
    );
    assert_eq!(page["isLast"], false);
    let token = page["nextPageToken"].as_str().unwrap_or_default();
    let body = json!({"jql": "project = P0002", "nextPageToken": token, "maxResults": 200, "fields": ["summary"]});
    let (_, second) = post(&client, &url, &body).await;
    assert_eq!(second["issues"][0]["key"], issues[100]["key"]);
    assert_eq!(sim.request_count("POST /rest/api/3/search/jql"), 2);

    // a token belongs to its query
    let (status, error) = get(
        &client,
        &format!(
            "{url}?jql=project%20%3D%20P0001&nextPageToken={}",
            urlencode(token)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("token"))
    );
    sim.shutdown();
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn key_only_listings_have_a_higher_cap() {
    let sim = generated_sim(2000).await;
    let client = client();
    let jql = "project in (P0001, \"P0002\", p0003)";
    let (issues, sizes) = search_all(
        &client,
        &sim,
        &[("jql", jql), ("fields", "key"), ("maxResults", "10000")],
    )
    .await;
    assert_eq!(sizes, [5000, 1000]);
    assert_eq!(issues.len(), 6000);
    let first = issues[0].as_object().expect("object");
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(names, ["id", "key", "self"]);

    // without fields Jira returns ids only
    let page = search(
        &client,
        &sim,
        &[("jql", "project = P0001"), ("maxResults", "3")],
    )
    .await;
    assert_eq!(page["issues"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["issues"][0], json!({"id": page["issues"][0]["id"]}));
    assert_eq!(sim.issue_count(), 6000);
    sim.shutdown();
}

#[tokio::test]
async fn fields_selection() {
    let sim = generated_sim(40).await;
    let client = client();
    let page = search(
        &client,
        &sim,
        &[
            ("jql", "project = P0001"),
            ("fields", "summary,status"),
            ("fields", "customfield_10001"),
            ("maxResults", "40"),
        ],
    )
    .await;
    for issue in page["issues"].as_array().expect("issues") {
        let fields = issue["fields"].as_object().expect("fields");
        let names: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            BTreeSet::from(["summary", "status", "customfield_10001"])
        );
        assert!(issue["fields"]["status"]["statusCategory"]["key"].is_string());
        assert!(issue["key"].is_string() && issue["expand"].is_string());
    }

    let all = search(
        &client,
        &sim,
        &[
            ("jql", "project = P0001"),
            ("fields", "*all,-description"),
            ("maxResults", "40"),
        ],
    )
    .await;
    let issues = all["issues"].as_array().expect("issues");
    let fields = issues[0]["fields"].as_object().expect("fields");
    assert!(!fields.contains_key("description"));
    for name in [
        "summary",
        "status",
        "issuetype",
        "priority",
        "assignee",
        "reporter",
        "created",
        "updated",
        "resolution",
        "labels",
        "components",
        "fixVersions",
        "project",
        "customfield_10030",
    ] {
        assert!(fields.contains_key(name), "{name}");
    }
    // dates in Jira's format, and updated never before created
    for issue in issues {
        let f = &issue["fields"];
        let created = f["created"]
            .as_str()
            .and_then(parse_timestamp)
            .expect("created");
        let updated = f["updated"]
            .as_str()
            .and_then(parse_timestamp)
            .expect("updated");
        assert!(created <= updated, "{}", issue["key"]);
        assert!(
            f["updated"]
                .as_str()
                .is_some_and(|u| u.len() == 28 && u.ends_with("+0000"))
        );
        if f["resolution"].is_null() {
            assert!(f["resolutiondate"].is_null());
        } else {
            assert!(f["resolutiondate"].is_string());
            assert_eq!(f["status"]["statusCategory"]["key"], "done");
        }
        if f["issuetype"]["subtask"] == true {
            assert!(f["parent"]["key"].is_string(), "sub-tasks have parents");
        }
    }
    sim.shutdown();
}

#[tokio::test]
async fn updated_filter_and_order_by() {
    let sim = generated_sim(300).await;
    let client = client();
    let (all, _) = search_all(
        &client,
        &sim,
        &[
            ("jql", "project = P0003"),
            ("fields", "updated,created"),
            ("maxResults", "100"),
        ],
    )
    .await;
    let cutoff = parse_timestamp("2024-01-01T00:00:00.000+0000").expect("date");
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|i| {
            i["fields"]["updated"]
                .as_str()
                .and_then(parse_timestamp)
                .is_some_and(|u| u >= cutoff)
        })
        .map(|i| i["key"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len());

    for jql in [
        "project = P0003 AND updated >= \"2024-01-01 00:00\" ORDER BY updated ASC",
        "project = P0003 and updated >= 2024-01-01 order by updated asc",
    ] {
        let (found, _) = search_all(
            &client,
            &sim,
            &[("jql", jql), ("fields", "updated"), ("maxResults", "100")],
        )
        .await;
        let got: BTreeSet<String> = keys(&found).into_iter().collect();
        assert_eq!(got, expected, "{jql}");
        let times: Vec<i64> = found
            .iter()
            .filter_map(|i| i["fields"]["updated"].as_str().and_then(parse_timestamp))
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "ascending");
    }
    let (desc, _) = search_all(
        &client,
        &sim,
        &[
            ("jql", "project = P0003 ORDER BY updated DESC"),
            ("fields", "updated"),
            ("maxResults", "100"),
        ],
    )
    .await;
    let times: Vec<i64> = desc
        .iter()
        .filter_map(|i| i["fields"]["updated"].as_str().and_then(parse_timestamp))
        .collect();
    assert_eq!(times.len(), 300);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "descending");
    let strictly_after = search(
        &client,
        &sim,
        &[
            ("jql", "project = P0003 AND updated > \"2099-01-01\""),
            ("fields", "key"),
        ],
    )
    .await;
    assert_eq!(strictly_after, json!({"issues": [], "isLast": true}));

    let (by_key, _) = search_all(
        &client,
        &sim,
        &[
            ("jql", "project in (P0001, P0002) ORDER BY key ASC"),
            ("fields", "key"),
            ("maxResults", "1000"),
        ],
    )
    .await;
    let ks = keys(&by_key);
    assert_eq!(ks[0], "P0001-1");
    assert_eq!(ks[9], "P0001-10", "numeric, not lexicographic");
    assert_eq!(ks[300], "P0002-1");
    let (by_id, _) = search_all(
        &client,
        &sim,
        &[("jql", "project = P0002 ORDER BY id"), ("fields", "id")],
    )
    .await;
    let ids: Vec<u64> = by_id
        .iter()
        .filter_map(|i| i["id"].as_str()?.parse().ok())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    sim.shutdown();
}

#[tokio::test]
async fn bad_jql_is_rejected() {
    let sim = generated_sim(5).await;
    let client = client();
    let url = format!("{}/rest/api/3/search/jql", sim.base_url());
    for jql in ["", "ORDER BY updated DESC", "  "] {
        let (status, body) = get(&client, &format!("{url}?jql={}", urlencode(jql))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{jql:?}");
        assert_eq!(
            body,
            json!({"errorMessages": ["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."], "errors": {}})
        );
    }
    let (status, _) = get(&client, &url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no jql at all");
    for (jql, needle) in [
        ("project = ", "end of the query"),
        ("project = P0001 foo", "'foo'"),
        ("project = NOPE", "'NOPE' does not exist"),
        (
            "project = P0001 AND updated >= \"last tuesday\"",
            "Date value",
        ),
        ("project = \"P0001", "quoted string"),
        ("bogus = 1", "Field 'bogus'"),
    ] {
        let (status, body) = get(&client, &format!("{url}?jql={}", urlencode(jql))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{jql}");
        let message = body["errorMessages"][0].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{jql}: {message}");
    }
    let (status, _) = post(&client, &url, &json!("not an object")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.shutdown();
}

#[tokio::test]
async fn recorded_issues_are_served_verbatim() {
    let sim = start(Dataset::fixtures(), SimAuth::Anonymous).await;
    let client = client();
    assert_eq!(Dataset::fixtures().issue_count(), 2);
    let page = search(
        &client,
        &sim,
        &[("jql", "project = EX"), ("fields", "*all")],
    )
    .await;
    let recorded: Value =
        serde_json::from_str(include_str!("../../fixtures/jira/search-jql.json")).expect("fixture");
    assert_eq!(page["issues"], recorded["issues"]);
    assert_eq!(page["isLast"], true);

    let page = search(
        &client,
        &sim,
        &[("jql", "project = TESTKEY13"), ("fields", "*all")],
    )
    .await;
    let airbyte: Value = serde_json::from_str(include_str!(
        "../../fixtures/jira/search.airbyte-issues.json"
    ))
    .expect("fixture");
    assert_eq!(page["issues"], airbyte["issues"]);

    // ED-1's recorded `updated` is the number 1: it sorts at the fallback date
    let both = search(
        &client,
        &sim,
        &[
            ("jql", "project in (EX, TESTKEY13) ORDER BY updated DESC"),
            ("fields", "summary"),
        ],
    )
    .await;
    assert_eq!(
        keys(both["issues"].as_array().expect("issues")),
        ["TESTKEY13-1", "ED-1"]
    );
    let narrowed = search(
        &client,
        &sim,
        &[("jql", "project = EX"), ("fields", "description")],
    )
    .await;
    assert_eq!(
        narrowed["issues"][0]["fields"],
        json!({"description": "Main order flow broken"})
    );

    let changelog = get_json(
        &client,
        &format!("{}/rest/api/3/issue/ED-1/changelog", sim.base_url()),
    )
    .await;
    assert_eq!(changelog["total"], 2);
    assert_eq!(
        changelog["values"][1]["items"][0]["toString"],
        "label-1 label-2"
    );
    let issue = get_json(
        &client,
        &format!("{}/rest/api/3/issue/10627", sim.base_url()),
    )
    .await;
    assert_eq!(issue["key"], "TESTKEY13-1");

    // generated issues next to the recorded ones
    let sim2 = start(
        Dataset::fixtures().with_issues(small_spec(10)),
        SimAuth::Anonymous,
    )
    .await;
    let (ex, _) = search_all(
        &client,
        &sim2,
        &[("jql", "project = EX ORDER BY key ASC"), ("fields", "key")],
    )
    .await;
    assert_eq!(keys(&ex)[..3], ["ED-1", "EX-1", "EX-2"]);
    assert_eq!(ex.len(), 11);
    assert_eq!(sim2.issue_count(), 22);
    sim.shutdown();
    sim2.shutdown();
}
