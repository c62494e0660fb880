//! Embedded changelogs, per-issue changelog pages and bulk fetch.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::time::parse_timestamp;

fn stamp(value: &Value) -> i64 {
    value.as_str().and_then(parse_timestamp).expect("timestamp")
}

#[tokio::test]
async fn embedded_changelog_is_capped() {
    let sim = generated_sim(100).await;
    let client = client();
    let params = [
        ("jql", "project = P0001 ORDER BY key ASC"),
        ("fields", "updated"),
        ("expand", "changelog"),
        ("maxResults", "100"),
    ];
    let page = search(&client, &sim, &params).await;
    let issues = page["issues"].as_array().expect("issues");
    // every 50th generated issue has a long changelog: P0001-50 and P0001-100
    let long = &issues[49];
    assert_eq!(long["key"], "P0001-50");
    let changelog = &long["changelog"];
    let total = changelog["total"].as_u64().expect("total");
    assert!((120..=150).contains(&total), "{total}");
    assert_eq!(changelog["startAt"], 0);
    assert_eq!(changelog["maxResults"], 20);
    assert_eq!(changelog["histories"].as_array().map(Vec::len), Some(20));
    for issue in issues {
        let c = &issue["changelog"];
        let shown = c["histories"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(c["maxResults"].as_u64(), Some(shown));
        assert_eq!(shown, c["total"].as_u64().unwrap_or(0).min(20));
    }

    sim.set_embedded_changelog_cap(5);
    let page = search(&client, &sim, &params).await;
    assert_eq!(
        page["issues"][49]["changelog"]["histories"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    assert_eq!(
        page["issues"][49]["changelog"]["total"].as_u64(),
        Some(total)
    );
    sim.shutdown();
}

#[tokio::test]
async fn issue_changelog_pages() {
    let sim = generated_sim(100).await;
    let client = client();
    let base = sim.base_url();
    let issue = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/P0001-50?fields=updated,created"),
    )
    .await;
    let updated = stamp(&issue["fields"]["updated"]);
    let created = stamp(&issue["fields"]["created"]);

    let mut url = Some(format!(
        "{base}/rest/api/3/issue/P0001-50/changelog?maxResults=1000"
    ));
    let (mut histories, mut pages) = (Vec::new(), 0);
    while let Some(next) = url {
        let page = get_json(&client, &next).await;
        assert_eq!(page["maxResults"], 100);
        assert_eq!(page["startAt"].as_u64(), Some(histories.len() as u64));
        assert_eq!(page["isLast"], page.get("nextPage").is_none());
        histories.extend(page["values"].as_array().cloned().unwrap_or_default());
        url = page["nextPage"].as_str().map(str::to_owned);
        pages += 1;
        assert!(page["total"].as_u64().is_some_and(|t| t >= 120));
    }
    assert_eq!(pages, 2);
    let times: Vec<i64> = histories.iter().map(|h| stamp(&h["created"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "chronological");
    assert!(times.first().is_some_and(|t| *t >= created));
    assert_eq!(
        times.last().copied(),
        Some(updated),
        "last history at updated"
    );
    let ids: std::collections::BTreeSet<&str> =
        histories.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids.len(), histories.len());
    let item = &histories[0]["items"][0];
    for name in ["field", "fieldtype", "from", "fromString", "to", "toString"] {
        assert!(item.get(name).is_some(), "{name} in {item}");
    }

    // the last status change ends at the current status
    let status = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/P0001-50?fields=status"),
    )
    .await;
    let last_status = histories
        .iter()
        .flat_map(|h| h["items"].as_array().cloned().unwrap_or_default())
        .rfind(|i| i["field"] == "status");
    if let Some(change) = last_status {
        assert_eq!(change["to"], status["fields"]["status"]["id"]);
    }

    let (code, body) = get(
        &client,
        &format!("{base}/rest/api/3/issue/NOPE-1/changelog"),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    assert_eq!(
        sim.request_count("GET /rest/api/3/issue/{issueIdOrKey}/changelog"),
        3
    );
    sim.shutdown();
}

#[tokio::test]
async fn bulkfetch_pages_and_can_be_missing() {
    let sim = generated_sim(60).await;
    let client = client();
    let base = sim.base_url();
    let url = format!("{base}/rest/api/3/changelog/bulkfetch");
    let keys: Vec<String> = (1..=60).map(|n| format!("P0002-{n}")).collect();

    let mut expected = BTreeMap::new();
    for key in &keys {
        let page = get_json(
            &client,
            &format!("{base}/rest/api/3/issue/{key}/changelog?maxResults=1"),
        )
        .await;
        let issue = get_json(
            &client,
            &format!("{base}/rest/api/3/issue/{key}?fields=key"),
        )
        .await;
        let total = page["total"].as_u64().unwrap_or(0);
        if total > 0 {
            expected.insert(issue["id"].as_str().unwrap_or_default().to_owned(), total);
        }
    }

    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"issueIdsOrKeys": keys, "maxResults": 50});
        if let Some(t) = &token {
            body["nextPageToken"] = t.clone().into();
        }
        let (status, page) = post(&client, &url, &body).await;
        assert_eq!(status, StatusCode::OK);
        let logs = page["issueChangeLogs"].as_array().expect("logs");
        let on_page: usize = logs
            .iter()
            .map(|l| l["changeHistories"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(on_page <= 50);
        for log in logs {
            let id = log["issueId"].as_str().unwrap_or_default().to_owned();
            *got.entry(id).or_default() +=
                log["changeHistories"].as_array().map_or(0, Vec::len) as u64;
        }
        pages += 1;
        token = page["nextPageToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
        assert_eq!(on_page, 50, "full pages until the last");
    }
    assert_eq!(got, expected);
    assert!(pages > 2);

    // fieldIds narrows the items
    let body = json!({"issueIdsOrKeys": ["P0002-50"], "fieldIds": ["status"]});
    let (_, page) = post(&client, &url, &body).await;
    let histories = page["issueChangeLogs"][0]["changeHistories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!histories.is_empty());
    assert!(histories.iter().all(|h| {
        h["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i["fieldId"] == "status"))
    }));

    // a token from another request, too many issues, an empty list
    let (_, first) = post(
        &client,
        &url,
        &json!({"issueIdsOrKeys": keys, "maxResults": 5}),
    )
    .await;
    let token = first["nextPageToken"].as_str().unwrap_or_default();
    let (status, _) = post(
        &client,
        &url,
        &json!({"issueIdsOrKeys": ["P0002-1"], "nextPageToken": token}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let many: Vec<String> = (1..=1001).map(|n| format!("P0001-{n}")).collect();
    let (status, body) = post(&client, &url, &json!({"issueIdsOrKeys": many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("1000"))
    );
    let (status, _) = post(&client, &url, &json!({"issueIdsOrKeys": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    sim.set_bulk_changelog(false);
    let (status, body) = post(&client, &url, &json!({"issueIdsOrKeys": ["P0002-1"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.starts_with("No resource found"))
    );
    assert!(sim.request_count("POST /rest/api/3/changelog/bulkfetch") >= 6);
    sim.shutdown();
}
