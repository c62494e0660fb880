//! End-to-end tests of the issue endpoints over loopback HTTP.

mod changelog;
mod meta;
mod mutation;
mod scale;
mod search;

use reqwest::{Client, StatusCode};
use serde_json::Value;

pub(crate) use crate::tests::{client, get_json, start};
use crate::{Dataset, IssueSpec, SimAuth, Simulator};

/// 3 generated projects (P0001..P0003) with 4 issue types (Epic, Type 2, Type 3, Sub-task).
fn small_spec(per_project: usize) -> IssueSpec {
    IssueSpec {
        issues_per_project: per_project,
        ..IssueSpec::default()
    }
}

async fn generated_sim(per_project: usize) -> Simulator {
    let dataset = Dataset::generated(3, 4, 5).with_issues(small_spec(per_project));
    start(dataset, SimAuth::Anonymous).await
}

/// GET and the status, whatever it is.
async fn get(client: &Client, url: &str) -> (StatusCode, Value) {
    let response = client.get(url).send().await.expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(client: &Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let response = client.post(url).json(body).send().await.expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// search/jql with query parameters, 200 expected.
async fn search(client: &Client, sim: &Simulator, params: &[(&str, &str)]) -> Value {
    let url = format!("{}/rest/api/3/search/jql", sim.base_url());
    let response = client.get(&url).query(params).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK, "{params:?}");
    response.json().await.expect("json")
}

/// Every issue of a search, following nextPageToken; also the page sizes.
async fn search_all(
    client: &Client,
    sim: &Simulator,
    params: &[(&str, &str)],
) -> (Vec<Value>, Vec<usize>) {
    let (mut issues, mut sizes) = (Vec::new(), Vec::new());
    let mut token: Option<String> = None;
    loop {
        let mut query: Vec<(&str, &str)> = params.to_vec();
        if let Some(t) = &token {
            query.push(("nextPageToken", t));
        }
        let page = search(client, sim, &query).await;
        let batch = page["issues"].as_array().cloned().unwrap_or_default();
        sizes.push(batch.len());
        issues.extend(batch);
        token = page["nextPageToken"].as_str().map(str::to_owned);
        assert_eq!(page["isLast"], token.is_none(), "isLast iff no token");
        if token.is_none() {
            return (issues, sizes);
        }
        assert!(sizes.len() < 10_000, "paging does not end");
    }
}

fn keys(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .map(|i| i["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}
