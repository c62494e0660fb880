//! Determinism and generation speed.

use std::time::Instant;

use super::*;
use crate::issues::{FieldSel, IssueRef, Out};
use crate::state::Shared;
use crate::{DEFAULT_MAX_PAGE_SIZE, SimulatorConfig};

#[tokio::test]
async fn same_seed_same_pages() {
    let client = client();
    let params = [
        ("jql", "project = P0002 ORDER BY updated DESC"),
        ("fields", "*all"),
        ("expand", "changelog"),
        ("maxResults", "30"),
    ];
    let a = generated_sim(60).await;
    let b = generated_sim(60).await;
    let page_a = search(&client, &a, &params).await;
    let page_b = search(&client, &b, &params).await;
    assert_eq!(page_a, page_b);
    let other = start(
        Dataset::generated(3, 4, 5).with_issues(IssueSpec {
            seed: 43,
            ..small_spec(60)
        }),
        SimAuth::Anonymous,
    )
    .await;
    assert_ne!(search(&client, &other, &params).await, page_a);
    a.shutdown();
    b.shutdown();
    other.shutdown();
}

fn hundred_k() -> Shared {
    let dataset = Dataset::generated(100, 5, 7).with_issues(IssueSpec {
        issues_per_project: 1000,
        ..IssueSpec::default()
    });
    let config = SimulatorConfig {
        dataset,
        auth: SimAuth::Anonymous,
        max_page_size: DEFAULT_MAX_PAGE_SIZE,
    };
    Shared::new(config, "http://127.0.0.1:1".into())
}

/// Builds and serialises 100 issues from `first`, as one search page does; returns the bytes.
fn page(shared: &Shared, sel: &FieldSel, first: usize, changelog: Option<usize>) -> usize {
    let issues: Vec<Out> = (first..first + 100)
        .map(|g| shared.issues.render(IssueRef::Generated(g), sel, changelog))
        .collect();
    serde_json::to_vec(&issues).map_or(0, |b| b.len())
}

#[test]
fn generation_speed() {
    let started = Instant::now();
    let shared = hundred_k();
    let setup = started.elapsed();
    assert_eq!(shared.issues.live_count(), 100_000);
    let sel = FieldSel::parse(Some(&["*all".to_owned()]));
    let pages = 40;
    let timed = |label: &str, changelog: Option<usize>| {
        let started = Instant::now();
        let bytes: usize = (0..pages)
            .map(|p| page(&shared, &sel, p * 2477 % 99_900, changelog))
            .sum();
        let per_page = started.elapsed() / pages as u32;
        eprintln!(
            "  {label}: {per_page:?} per page of 100 ({} KiB)",
            bytes / pages / 1024
        );
        per_page
    };
    eprintln!("100k issues, setup {setup:?}");
    timed("*all", None);
    timed("*all + expand=changelog", Some(20));
    // Pages with their changelogs are larger than without: the changelog is rendered. (Speed
    // is bench/'s to measure; a wall-clock bound here would fail on a loaded CI machine.)
    let plain = page(&shared, &sel, 500, None);
    let with_changelog = page(&shared, &sel, 500, Some(20));
    assert!(with_changelog > plain, "{with_changelog} vs {plain} bytes");
}

/// Follows nextPageToken through a search, reading bodies as bytes (a JSON parse on the
/// client would cost as much as the server's work); returns issues seen and pages.
async fn drain(
    client: &reqwest::Client,
    sim: &Simulator,
    params: &[(&str, &str)],
) -> (usize, usize) {
    let url = format!("{}/rest/api/3/search/jql", sim.base_url());
    let (mut issues, mut pages) = (0, 0);
    let mut token: Option<String> = None;
    loop {
        let mut query: Vec<(&str, &str)> = params.to_vec();
        if let Some(t) = &token {
            query.push(("nextPageToken", t));
        }
        let body = client
            .get(&url)
            .query(&query)
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
        let text = std::str::from_utf8(&body).expect("utf-8");
        issues += text.matches("\"expand\":\"operations").count();
        pages += 1;
        token = text
            .split_once("\"nextPageToken\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(t, _)| t.to_owned());
        if token.is_none() {
            return (issues, pages);
        }
    }
}

/// Pages through all 100k issues over HTTP, client and server on one thread; run with
/// `cargo test --release -p sluice-simulator -- --ignored --nocapture serve_100k` to measure.
#[tokio::test(flavor = "current_thread")]
#[ignore = "measurement; run in release"]
async fn serve_100k_issues() {
    let dataset = Dataset::generated(100, 5, 7).with_issues(IssueSpec {
        issues_per_project: 1000,
        ..IssueSpec::default()
    });
    let sim = start(dataset, SimAuth::Anonymous).await;
    let client = client();
    let projects: Vec<String> = (1..=100).map(|p| format!("P{p:04}")).collect();
    let jql = format!("project in ({}) ORDER BY key ASC", projects.join(", "));
    for expand in ["", "changelog"] {
        let started = Instant::now();
        let (issues, pages) = drain(
            &client,
            &sim,
            &[
                ("jql", &jql),
                ("fields", "*all"),
                ("expand", expand),
                ("maxResults", "100"),
            ],
        )
        .await;
        let elapsed = started.elapsed();
        assert_eq!(issues, 100_000);
        assert_eq!(pages, 1000);
        eprintln!(
            "served 100k issues (*all, expand={expand:?}) in {elapsed:?}: {:.0} issues/s",
            100_000.0 / elapsed.as_secs_f64()
        );
    }
    sim.shutdown();
}
