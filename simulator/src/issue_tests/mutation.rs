//! bump_updated and delete_issue.

use std::collections::BTreeSet;

use reqwest::StatusCode;

use super::*;
use crate::time::{MINUTE, jira, now_ms, parse_timestamp};

/// "yyyy-MM-dd HH:mm" of the current minute, as a JQL date.
fn this_minute() -> String {
    let now = now_ms();
    jira(now - now.rem_euclid(MINUTE))[..16].replace('T', " ")
}

#[tokio::test]
async fn bumped_issues_are_found_by_updated() {
    let sim = generated_sim(200).await;
    let client = client();
    let since = this_minute();
    let before = get_json(
        &client,
        &format!("{}/rest/api/3/issue/P0001-1/changelog", sim.base_url()),
    )
    .await;
    let bumped = sim.bump_updated(0.1, 7);
    assert!(bumped.len() > 20 && bumped.len() < 120, "{}", bumped.len());
    assert!(bumped.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert_eq!(
        bumped,
        sim.clone().bump_updated(0.1, 7),
        "same seed, same issues"
    );

    let jql = format!("project in (P0001, P0002, P0003) AND updated >= \"{since}\"");
    let (found, _) = search_all(
        &client,
        &sim,
        &[
            ("jql", &jql),
            ("fields", "key,updated"),
            ("maxResults", "100"),
        ],
    )
    .await;
    let mut found_keys = keys(&found);
    found_keys.sort();
    assert_eq!(found_keys, bumped);
    let updated = found[0]["fields"]["updated"].as_str().unwrap_or_default();
    assert!(
        parse_timestamp(updated).is_some_and(|t| t > now_ms() - 60_000),
        "{updated}"
    );

    // each bump appended one history, created at the new `updated`
    let key = &bumped[0];
    let issue = get_json(
        &client,
        &format!(
            "{}/rest/api/3/issue/{key}?fields=updated,assignee",
            sim.base_url()
        ),
    )
    .await;
    let changelog = get_json(
        &client,
        &format!(
            "{}/rest/api/3/issue/{key}/changelog?startAt=0&maxResults=100",
            sim.base_url()
        ),
    )
    .await;
    let total = changelog["total"].as_u64().unwrap_or(0) as usize;
    let values = changelog["values"].as_array().cloned().unwrap_or_default();
    let last = &values[values.len() - 1];
    assert_eq!(last["created"], issue["fields"]["updated"]);
    assert_eq!(last["items"][0]["field"], "assignee");
    assert_eq!(
        last["items"][0]["to"],
        issue["fields"]["assignee"]["accountId"].clone()
    );
    assert!(total >= 2, "bumped twice (same seed)");
    if !bumped.contains(&"P0001-1".to_owned()) {
        let after = get_json(
            &client,
            &format!("{}/rest/api/3/issue/P0001-1/changelog", sim.base_url()),
        )
        .await;
        assert_eq!(after["total"], before["total"]);
    }
    assert!(sim.bump_updated(0.0, 1).is_empty());
    sim.shutdown();
}

#[tokio::test]
async fn deleted_issues_disappear() {
    let sim = generated_sim(20).await;
    let client = client();
    let base = sim.base_url();
    assert_eq!(sim.issue_count(), 60);
    assert!(sim.delete_issue("P0001-3"));
    assert!(!sim.delete_issue("P0001-3"), "already gone");
    assert!(!sim.delete_issue("P0001-999"));
    assert_eq!(sim.issue_count(), 59);

    let (all, _) = search_all(
        &client,
        &sim,
        &[("jql", "project = P0001"), ("fields", "key")],
    )
    .await;
    let keys: BTreeSet<String> = keys(&all).into_iter().collect();
    assert_eq!(keys.len(), 19);
    assert!(!keys.contains("P0001-3"));
    for path in ["P0001-3", "P0001-3/changelog"] {
        let (status, _) = get(&client, &format!("{base}/rest/api/3/issue/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = get(&client, &format!("{base}/rest/api/3/issue/P0001-4")).await;
    assert_eq!(status, StatusCode::OK);
    sim.shutdown();
}
