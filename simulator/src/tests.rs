//! End-to-end tests over loopback HTTP.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::*;

const STATUS_KEY: &str = "GET /rest/api/3/status";

pub(crate) async fn start(dataset: Dataset, auth: SimAuth) -> Simulator {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let config = SimulatorConfig {
        dataset,
        auth,
        max_page_size: DEFAULT_MAX_PAGE_SIZE,
    };
    Simulator::start(config, listener).await.expect("start")
}

/// A client; reqwest needs a rustls provider even for plain http.
pub(crate) fn client() -> Client {
    // a second install fails harmlessly: the provider is already in place
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

pub(crate) async fn get_json(client: &Client, url: &str) -> Value {
    let response = client.get(url).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.json().await.expect("json body")
}

#[tokio::test]
async fn fixture_project_search_pages_and_expands() {
    let sim = start(Dataset::fixtures(), SimAuth::Anonymous).await;
    let client = client();
    let url = format!("{}/rest/api/3/project/search?maxResults=1", sim.base_url());

    let response = client.get(&url).send().await.expect("send");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json;charset=UTF-8");
    assert_eq!(headers["x-ratelimit-limit"], "1000");
    assert_eq!(headers["x-ratelimit-remaining"], "999");
    assert_eq!(headers["x-ratelimit-nearlimit"], "false");
    let first: Value = response.json().await.expect("json");
    assert_eq!(first["isLast"], false);
    assert_eq!(first["total"], 2);
    assert_eq!(first["maxResults"], 1);
    assert_eq!(first["values"][0]["key"], "EX");
    // recorded fields are served as recorded
    assert_eq!(first["values"][0]["insight"]["totalIssueCount"], 100);
    let next = first["nextPage"]
        .as_str()
        .expect("nextPage on the first page");
    assert!(next.starts_with(&sim.base_url()), "{next}");

    let second = get_json(&client, next).await;
    assert_eq!(second["values"][0]["key"], "ABC");
    assert_eq!(second["startAt"], 1);
    assert_eq!(second["isLast"], true);
    assert!(second.get("nextPage").is_none());
    assert_eq!(sim.request_count("GET /rest/api/3/project/search"), 2);

    let url = format!(
        "{}/rest/api/3/project/search?expand=description,issueTypes&keys=ABC",
        sim.base_url()
    );
    let expanded = get_json(&client, &url).await;
    assert_eq!(expanded["total"], 1);
    let types = &expanded["values"][0]["issueTypes"];
    assert_eq!(types[0]["name"], "Task");
    assert_eq!(types[0]["hierarchyLevel"], 0);
    assert!(
        expanded["self"]
            .as_str()
            .is_some_and(|s| s.contains("keys=ABC"))
    );
    sim.shutdown();
}

#[tokio::test]
async fn generated_dataset_pages_at_the_cap() {
    let dataset = Dataset::generated(120, 5, 7);
    assert_eq!(dataset, Dataset::generated(120, 5, 7));
    assert_eq!(dataset.project_count(), 120);
    assert_eq!(dataset.issue_type_count(), 5);
    assert_eq!(dataset.status_count(), 7);
    assert_eq!(dataset.project_issue_type_count(), 600);
    assert_eq!(dataset.project_status_count(), 4200);

    let sim = start(dataset, SimAuth::Anonymous).await;
    let client = client();
    let mut url = Some(format!(
        "{}/rest/api/3/project/search?maxResults=100&keys=",
        sim.base_url()
    ));
    let (mut sizes, mut keys) = (Vec::new(), Vec::new());
    while let Some(next) = url {
        let page = get_json(&client, &next).await;
        let values = page["values"].as_array().expect("values");
        sizes.push(values.len());
        keys.extend(values.iter().map(|p| p["key"].clone()));
        assert_eq!(page["maxResults"], 50);
        url = page["nextPage"].as_str().map(str::to_owned);
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(keys[0], "P0001");
    assert_eq!(keys[119], "P0120");

    let url = format!("{}/rest/api/3/project/20007/statuses", sim.base_url());
    let entries = get_json(&client, &url).await;
    assert_eq!(entries.as_array().map(Vec::len), Some(5));
    assert_eq!(entries[0]["statuses"].as_array().map(Vec::len), Some(7));
    assert!(entries[0]["statuses"][0].get("statusCategory").is_none());
    let statuses = get_json(&client, &format!("{}/rest/api/3/status", sim.base_url())).await;
    assert_eq!(statuses[2]["statusCategory"]["key"], "done");
    sim.shutdown();
}

#[tokio::test]
async fn unknown_project_removed_search_and_unknown_paths() {
    let sim = start(Dataset::fixtures(), SimAuth::Anonymous).await;
    let client = client();
    let base = sim.base_url();

    let response = client
        .get(format!("{base}/rest/api/3/project/NOPE/statuses"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}})
    );
    let known = get_json(
        &client,
        &format!("{base}/rest/api/3/project/10001/statuses"),
    )
    .await;
    assert_eq!(known[0]["name"], "Task");

    for request in [
        client.get(format!("{base}/rest/api/3/search?jql=x")),
        client
            .post(format!("{base}/rest/api/3/search"))
            .json(&json!({})),
    ] {
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::GONE);
        let body: Value = response.json().await.expect("json");
        assert!(
            body["errorMessages"][0]
                .as_str()
                .is_some_and(|m| m.contains("/search/jql"))
        );
    }

    let response = client
        .get(format!("{base}/rest/api/3/nothing"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("json");
    assert!(body["errorMessages"][0].is_string());

    let counts = sim.request_counts();
    assert_eq!(
        counts["GET /rest/api/3/project/{projectIdOrKey}/statuses"],
        2
    );
    assert_eq!(counts["GET /rest/api/3/search"], 1);
    assert_eq!(counts["POST /rest/api/3/search"], 1);
    assert_eq!(counts["GET /rest/api/3/nothing"], 1);
    sim.shutdown();
}

#[tokio::test]
async fn basic_auth_is_checked_and_counted() {
    let auth = SimAuth::Basic {
        email: "dev@example.com".into(),
        api_token: "s3cret".into(),
    };
    let sim = start(Dataset::fixtures(), auth).await;
    let client = client();
    let url = format!("{}/rest/api/3/myself", sim.base_url());

    let wrong = format!("Basic {}", STANDARD.encode("dev@example.com:nope"));
    let response = client
        .get(&url)
        .header("authorization", wrong)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"protected-area\""
    );
    assert_eq!(
        response.text().await.expect("text"),
        "Client must be authenticated to access this resource."
    );
    assert_eq!(sim.request_count("GET /rest/api/3/myself"), 1);

    let response = client
        .get(&url)
        .basic_auth("dev@example.com", Some("s3cret"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["emailAddress"], "dev@example.com");
    assert_eq!(me["accountType"], "atlassian");
    assert_eq!(sim.request_count("GET /rest/api/3/myself"), 2);
    sim.shutdown();
}

#[tokio::test]
async fn bearer_auth_works() {
    let auth = SimAuth::Bearer {
        token: "tok-1".into(),
    };
    let sim = start(Dataset::fixtures(), auth).await;
    let client = client();
    let url = format!("{}/rest/api/3/issuetype", sim.base_url());

    let response = client.get(&url).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = client
        .get(&url)
        .bearer_auth("tok-1")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let types: Value = response.json().await.expect("json");
    assert_eq!(types[0]["id"], "3");
    sim.shutdown();
}

#[tokio::test]
async fn status_and_malformed_faults() {
    let sim = start(Dataset::fixtures(), SimAuth::Anonymous).await;
    let client = client();
    let url = format!("{}/rest/api/3/status", sim.base_url());
    sim.add_fault(Fault {
        endpoint: STATUS_KEY.into(),
        kind: FaultKind::Status {
            status: 429,
            retry_after_secs: Some(2),
        },
        times: 1,
    });

    let limited = client.get(&url).send().await.expect("send");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert_eq!(limited.headers()["ratelimit-reason"], "jira-burst-based");
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["errorMessages"][0], "Rate limit exceeded.");
    let statuses = get_json(&client, &url).await;
    assert_eq!(statuses.as_array().map(Vec::len), Some(38));
    assert_eq!(sim.request_count(STATUS_KEY), 2);

    sim.add_fault(Fault {
        endpoint: STATUS_KEY.into(),
        kind: FaultKind::Malformed,
        times: 1,
    });
    let broken = client.get(&url).send().await.expect("send");
    assert_eq!(broken.status(), StatusCode::OK);
    let text = broken.text().await.expect("text");
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err());

    sim.add_fault(Fault {
        endpoint: STATUS_KEY.into(),
        kind: FaultKind::Latency { millis: 150 },
        times: 1,
    });
    let started = Instant::now();
    get_json(&client, &url).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(sim.request_count(STATUS_KEY), 4);

    // A fault naming part of the query string hits only the requests that carry it.
    sim.add_fault(Fault {
        endpoint: format!("{STATUS_KEY}?expand=x"),
        kind: FaultKind::Status {
            status: 503,
            retry_after_secs: None,
        },
        times: 1,
    });
    get_json(&client, &url).await;
    let hit = client
        .get(format!("{url}?expand=x"))
        .send()
        .await
        .expect("send");
    assert_eq!(hit.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(sim.shared.faults.pending().is_empty(), "used up");

    sim.reset_counts();
    assert!(sim.request_counts().is_empty());
    sim.shutdown();
}

#[tokio::test]
async fn control_api_arms_faults_and_reports_counts() {
    let sim = start(Dataset::fixtures(), SimAuth::Bearer { token: "t".into() }).await;
    let client = client();
    let base = sim.base_url();

    let armed = client
        .post(format!("{base}/_sim/faults"))
        .json(&json!({
            "endpoint": STATUS_KEY,
            "kind": {"status": 503, "retry_after_secs": 1},
            "times": 1,
        }))
        .send()
        .await
        .expect("send");
    assert_eq!(armed.status(), StatusCode::CREATED);
    let rejected = client
        .post(format!("{base}/_sim/faults"))
        .json(&json!({"endpoint": STATUS_KEY, "kind": "sideways"}))
        .send()
        .await
        .expect("send");
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);

    let url = format!("{base}/rest/api/3/status");
    let faulted = client.get(&url).send().await.expect("send");
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(faulted.headers()["retry-after"], "1");
    // the fault is used up, and without credentials the next answer is 401
    let unauthorized = client.get(&url).send().await.expect("send");
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);

    let counts = get_json(&client, &format!("{base}/_sim/requests")).await;
    assert_eq!(counts, json!({STATUS_KEY: 2}));
    let reset = client
        .delete(format!("{base}/_sim/requests"))
        .send()
        .await
        .expect("send");
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert!(sim.request_counts().is_empty());
    sim.shutdown();
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = start(Dataset::generated(1, 1, 1), SimAuth::Anonymous).await;
    let url = format!("{}/rest/api/3/issuetype", sim.base_url());
    get_json(&client(), &url).await;
    sim.clone().shutdown();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // a fresh client so no pooled connection hides the closed listener
        if client().get(&url).send().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still serving after shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn control_api_switches_the_site_and_links_pull_requests() {
    let sim = start(
        Dataset::generated(1, 2, 2).with_issues(crate::IssueSpec {
            issues_per_project: 4,
            ..crate::IssueSpec::default()
        }),
        SimAuth::Anonymous,
    )
    .await;
    let client = client();
    let base = sim.base_url();
    let site = get_json(&client, &format!("{base}/_sim/site")).await;
    assert_eq!(
        site,
        json!({"bulk_changelog": true, "development_search": true, "development_field": true,
               "gzip": true, "rate_limit_per_second": null})
    );
    let put = |body: Value| {
        let (client, url) = (client.clone(), format!("{base}/_sim/site"));
        async move { client.put(url).json(&body).send().await.expect("send") }
    };
    let slow = put(json!({"bulk_changelog": false, "rate_limit_per_second": 2})).await;
    assert_eq!(slow.status(), StatusCode::OK);
    let slow: Value = slow.json().await.expect("json");
    assert_eq!(slow["bulk_changelog"], false);
    assert_eq!(slow["development_search"], true, "untouched switches stay");
    assert_eq!(slow["rate_limit_per_second"], 2.0);
    // The limit is in force: the third request within a second is refused.
    let url = format!("{base}/rest/api/3/status");
    let (a, b, c) = tokio::join!(
        client.get(&url).send(),
        client.get(&url).send(),
        client.get(&url).send()
    );
    let statuses: Vec<StatusCode> = [a, b, c]
        .into_iter()
        .map(|r| r.expect("send").status())
        .collect();
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let lifted = put(json!({"rate_limit_per_second": null})).await;
    assert_eq!(
        lifted.json::<Value>().await.expect("json")["rate_limit_per_second"],
        Value::Null
    );

    for (body, named) in [
        (json!({"gzip": "yes"}), "gzip"),
        (json!({"bulkfetch": false}), "bulkfetch"),
        (json!({"rate_limit_per_second": 0}), "rate_limit_per_second"),
    ] {
        let refused = put(body).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let error = refused.json::<Value>().await.expect("json")["error"].to_string();
        assert!(error.contains(named), "{error}");
    }

    let linked = client
        .post(format!("{base}/_sim/issues/P0001-1/pull-requests"))
        .send()
        .await
        .expect("send");
    assert_eq!(linked.status(), StatusCode::CREATED);
    // An existing pull request, as a GitHub app links it: dev status shows it as given.
    let spec = json!({"url": "https://github.com/acme/api/pull/7", "repository": "acme/api",
        "number": 7, "title": "P0001-2: retry uploads", "status": "MERGED", "author": "octocat",
        "branch": "feature/P0001-2", "updated_ms": 1_764_496_800_000_i64});
    let given = client
        .post(format!("{base}/_sim/issues/P0001-2/pull-requests"))
        .json(&spec)
        .send()
        .await
        .expect("send");
    assert_eq!(given.status(), StatusCode::CREATED);
    let detail: Value = client
        .get(format!(
            "{base}/rest/dev-status/latest/issue/detail?issueId=100002&applicationType=GitHub&dataType=pullrequest"
        ))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let prs = detail["detail"][0]["pullRequests"].as_array().expect("prs");
    let shown = prs
        .iter()
        .find(|pr| pr["url"] == spec["url"])
        .unwrap_or_else(|| panic!("the linked pull request in {detail}"));
    assert_eq!(
        (
            &shown["name"],
            &shown["status"],
            &shown["repositoryName"],
            &shown["author"]["name"]
        ),
        (
            &spec["title"],
            &spec["status"],
            &spec["repository"],
            &spec["author"]
        )
    );
    assert_eq!(shown["lastUpdate"], "2025-11-30T10:00:00.000+0000");
    let mut incomplete = spec.clone();
    incomplete.as_object_mut().expect("object").remove("title");
    let refused = client
        .post(format!("{base}/_sim/issues/P0001-2/pull-requests"))
        .json(&incomplete)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let error = refused.json::<Value>().await.expect("json")["error"].to_string();
    assert!(error.contains("title"), "{error}");
    let unknown = client
        .post(format!("{base}/_sim/issues/NOPE-1/pull-requests"))
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    sim.shutdown();
}
