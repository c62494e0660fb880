//! Jira issues end to end: discovery, mapping, full and incremental syncs, changelogs,
//! Reprocess, out-of-order loads.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;
use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, IssueSpec};
use tonic::Code;

use crate::harness::{Options, TEST_EMAIL, TestEnv};

fn issue_dataset() -> Dataset {
    Dataset::generated(3, 4, 5).with_issues(IssueSpec {
        issues_per_project: 70,
        seed: 7,
        custom_fields: 30,
        mean_histories: 6,
        long_changelog_every: 35,
        dev_status_every: 5,
    })
}

/// GET from the simulator directly, as the source of truth for assertions.
async fn source(env: &TestEnv, path: &str, query: &[(&str, String)]) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", env.simulator.base_url()))
        .query(query)
        .basic_auth(TEST_EMAIL, Some(&env.api_token))
        .send()
        .await
        .expect("source request")
        .json()
        .await
        .expect("source json")
}

/// Every issue the source has, with all fields, by key.
async fn source_issues(env: &TestEnv, project: &str) -> BTreeMap<String, Value> {
    let mut issues = BTreeMap::new();
    let mut token = String::new();
    loop {
        let mut query = vec![
            ("jql", format!("project = \"{project}\" ORDER BY key ASC")),
            ("fields", "*all".to_string()),
            ("maxResults", "100".to_string()),
        ];
        if !token.is_empty() {
            query.push(("nextPageToken", token.clone()));
        }
        let page = source(env, "/rest/api/3/search/jql", &query).await;
        for issue in page["issues"].as_array().expect("issues") {
            issues.insert(
                issue["key"].as_str().expect("key").to_string(),
                issue.clone(),
            );
        }
        match page["nextPageToken"].as_str() {
            Some(next) => token = next.to_string(),
            None => return issues,
        }
    }
}

/// A discovered custom field whose schema matches.
fn field_with(dataset: &Dataset, predicate: impl Fn(&Value) -> bool) -> (String, String) {
    let field = dataset
        .custom_fields()
        .into_iter()
        .find(|f| predicate(&f["schema"]))
        .expect("a matching custom field");
    (
        field["id"].as_str().expect("id").to_string(),
        field["name"].as_str().expect("name").to_string(),
    )
}

fn column_value(row: &Value, column: &str) -> Value {
    row.get(column).cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn issues_sync_fully_then_incrementally_and_reprocess_moves_columns_without_calling_jira() {
    let dataset = issue_dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    let (integration_id, job_ids) = env.create_jira_integration_with_jobs("issues").await;
    assert_eq!(job_ids.len(), 2, "discovery and issues jobs by default");

    // Discovery first: the mapping is checked against what it found.
    let unchecked = env
        .custom_fields()
        .set_field_mapping(env.authed(pb::SetFieldMappingRequest {
            mapping: Some(pb::FieldMapping {
                integration_id: integration_id.clone(),
                project_key: String::new(),
                entries: vec![pb::FieldMappingEntry {
                    field_id: "customfield_10001".into(),
                    column: 1,
                }],
            }),
            force: false,
        }))
        .await
        .unwrap_err();
    assert_eq!(unchecked.code(), Code::InvalidArgument);
    assert!(
        unchecked.message().contains("discovery has not run"),
        "{}",
        unchecked.message()
    );
    let discovery = env
        .custom_fields()
        .discover_custom_fields(env.authed(pb::DiscoverCustomFieldsRequest {
            integration_id: integration_id.clone(),
            project_key: String::new(),
        }))
        .await
        .expect("discover")
        .into_inner();
    let run = env.wait_for_run(&discovery.run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let discovered = env
        .custom_fields()
        .list_discovered_fields(env.authed(pb::ListDiscoveredFieldsRequest {
            integration_id: integration_id.clone(),
            project_key: String::new(),
        }))
        .await
        .expect("list discovered")
        .into_inner()
        .fields;
    for field in dataset.custom_fields() {
        assert!(
            discovered.iter().any(|d| d.field_id == field["id"]),
            "discovered {}",
            field["id"]
        );
    }
    // createmeta: per project, which issue types offer a field and whether it is required.
    let summary = discovered
        .iter()
        .find(|d| d.project_key == "P0001" && d.field_id == "summary")
        .expect("createmeta fields of P0001");
    assert!(summary.required);
    assert_eq!(
        summary.issue_type_ids.len(),
        4,
        "every issue type of P0001 offers summary"
    );
    // A site without the per-issue-type createmeta: the deprecated one is used instead.
    env.simulator.set_new_createmeta(false);
    env.simulator.reset_counts();
    let legacy = env
        .custom_fields()
        .discover_custom_fields(env.authed(pb::DiscoverCustomFieldsRequest {
            integration_id: integration_id.clone(),
            project_key: "P0002".into(),
        }))
        .await
        .expect("discover P0002")
        .into_inner();
    let run = env.wait_for_run(&legacy.run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator
            .request_count("GET /rest/api/3/issue/createmeta"),
        1
    );
    env.simulator.set_new_createmeta(true);

    let (select_id, _) = field_with(&dataset, |s| {
        s["type"] == "option" && s["custom"].as_str().is_some_and(|c| c.ends_with(":select"))
    });
    let (cascade_id, _) = field_with(&dataset, |s| s["type"] == "option-with-child");
    let (text_id, text_name) = field_with(&dataset, |s| {
        s["type"] == "string"
            && s["custom"]
                .as_str()
                .is_some_and(|c| c.ends_with(":textfield"))
    });
    let mapping = |entries: Vec<(&str, i32)>| pb::SetFieldMappingRequest {
        mapping: Some(pb::FieldMapping {
            integration_id: integration_id.clone(),
            project_key: String::new(),
            entries: entries
                .into_iter()
                .map(|(f, c)| pb::FieldMappingEntry {
                    field_id: f.into(),
                    column: c,
                })
                .collect(),
        }),
        force: false,
    };
    let bad = env
        .custom_fields()
        .set_field_mapping(env.authed(mapping(vec![(&select_id, 1), (&cascade_id, 1)])))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("column 1 is already used"),
        "{}",
        bad.message()
    );
    env.custom_fields()
        .set_field_mapping(env.authed(mapping(vec![
            (&select_id, 1),
            (&cascade_id, 2),
            (&text_id, 0),
        ])))
        .await
        .expect("set mapping");

    // Full sync.
    let issues_job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    env.simulator.reset_counts();
    let run = env.run_and_wait(&issues_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(run.progress_percentage, 100.0);
    // The run counts issues apart from the other records (changelog rows, statuses, ...);
    // loads report every 200 ms, so the last one may land just after completion.
    let counts = {
        let mut counts = run.counts.unwrap_or_default();
        for _ in 0..50 {
            if counts.issues_loaded >= dataset.issue_count() as i64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            counts = env.wait_for_run(&run.id).await.counts.unwrap_or_default();
        }
        counts
    };
    assert_eq!(counts.issues_fetched, dataset.issue_count() as i64);
    assert_eq!(counts.issues_loaded, dataset.issue_count() as i64);
    assert!(counts.records_loaded > counts.issues_loaded);
    // Read before the assertions below call the simulator themselves.
    let summary_calls = env
        .simulator
        .request_count("GET /rest/dev-status/latest/issue/summary");
    let detail_calls = env
        .simulator
        .request_count("GET /rest/dev-status/latest/issue/detail");
    assert_eq!(
        env.count("work_items", &integration_id).await,
        dataset.issue_count()
    );
    let rows: BTreeMap<String, Value> = env
        .table_rows("work_items", &integration_id)
        .await
        .into_iter()
        .map(|r| (r["key"].as_str().unwrap_or_default().to_string(), r))
        .collect();
    let mut long_changelog = None;
    let mut dev_rows = 0;
    let mut with_development = 0;
    let mut counted_types = 0;
    for project in ["P0001", "P0002", "P0003"] {
        for (key, issue) in source_issues(&env, project).await {
            let row = rows.get(&key).unwrap_or_else(|| panic!("{key} landed"));
            let fields = &issue["fields"];
            assert_eq!(row["summary"], fields["summary"], "{key} summary");
            assert_eq!(row["status_name"], fields["status"]["name"], "{key} status");
            assert_eq!(
                column_value(row, "custom_field_01"),
                fields[&select_id]["value"],
                "{key} select → column 1"
            );
            let cascade = &fields[&cascade_id];
            let expected_cascade = if cascade.is_null() {
                Value::Null
            } else {
                match cascade["child"]["value"].as_str() {
                    Some(child) => Value::String(format!(
                        "{} > {child}",
                        cascade["value"].as_str().unwrap_or_default()
                    )),
                    None => cascade["value"].clone(),
                }
            };
            assert_eq!(
                column_value(row, "custom_field_02"),
                expected_cascade,
                "{key} cascade → column 2"
            );
            assert_eq!(
                row["custom_fields_overflow"]
                    .get(&text_name)
                    .cloned()
                    .unwrap_or(Value::Null),
                fields[&text_id],
                "{key} text → overflow"
            );
            // Dev status: as many pull requests and branches as the summary counts.
            let id = issue["id"].as_str().unwrap_or_default().to_string();
            let summary = source(
                &env,
                "/rest/dev-status/latest/issue/summary",
                &[("issueId", id.clone())],
            )
            .await;
            let counted = ["pullrequest", "branch", "repository"]
                .iter()
                .filter(|part| summary["summary"][part]["overall"]["count"].as_i64() > Some(0))
                .count() as u64;
            if counted > 0 {
                with_development += 1;
            }
            counted_types += counted;
            for (kind, part) in [("pull_request", "pullrequest"), ("branch", "branch")] {
                let expected = summary["summary"][part]["overall"]["count"]
                    .as_i64()
                    .unwrap_or(0);
                let landed: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM work_item_dev_status WHERE integration_id = $1::uuid AND work_item_external_id = $2 AND kind = $3",
                )
                .bind(&integration_id)
                .bind(&id)
                .bind(kind)
                .fetch_one(&env.pool)
                .await
                .expect("dev status count");
                assert_eq!(landed, expected, "{key}: {kind} rows");
                dev_rows += landed;
            }
            let total = source(
                &env,
                &format!("/rest/api/3/issue/{key}/changelog"),
                &[("maxResults", "1".to_string())],
            )
            .await["total"]
                .as_u64()
                .unwrap_or(0);
            if total > 100 {
                long_changelog = Some((
                    key.clone(),
                    row["external_id"].as_str().unwrap_or_default().to_string(),
                    total,
                ));
            }
        }
    }
    assert!(
        dev_rows > 0,
        "the dataset links development work to some issues"
    );
    assert!(with_development > 0);
    assert_eq!(
        summary_calls, 0,
        "the Development field in the search results spares every summary call"
    );
    assert_eq!(
        detail_calls, counted_types,
        "one detail call per data type an issue's summary counts, none for issues without"
    );
    let (long_key, long_id, total) =
        long_changelog.expect("the dataset has an issue with more than 100 histories");
    let histories: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT history_id) FROM work_item_changelogs WHERE integration_id = $1::uuid AND work_item_external_id = $2",
    )
    .bind(&integration_id)
    .bind(&long_id)
    .fetch_one(&env.pool)
    .await
    .expect("histories");
    assert_eq!(
        histories as u64, total,
        "{long_key}: every history of a truncated changelog"
    );

    // Incremental: only the changed issues (and those inside each project's overlap window,
    // behind that project's own cursor) are fetched.
    let cursors: BTreeMap<String, chrono::DateTime<chrono::Utc>> = sqlx::query_as(
        "SELECT project_key, max(updated) FROM work_items WHERE integration_id = $1::uuid GROUP BY 1",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("cursors")
    .into_iter()
    .collect();
    let in_overlap: BTreeSet<String> = rows
        .values()
        .filter(|r| {
            let overlap_start = cursors[r["project_key"].as_str().unwrap_or_default()]
                - chrono::Duration::minutes(5);
            r["updated"]
                .as_str()
                .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                .is_some_and(|u| u >= overlap_start)
        })
        .map(|r| r["key"].as_str().unwrap_or_default().to_string())
        .collect();
    let bumped: BTreeSet<String> = env.simulator.bump_updated(0.02, 11).into_iter().collect();
    assert!(!bumped.is_empty());
    let second = env.run_and_wait(&issues_job).await;
    assert_eq!(
        second.status,
        pb::RunStatus::Completed as i32,
        "{}",
        second.error_message
    );
    let fetched = fetched_issue_keys(&env, &second.id).await;
    let expected: BTreeSet<String> = bumped.union(&in_overlap).cloned().collect();
    assert_eq!(
        fetched, expected,
        "the incremental run fetches the changed issues and the overlap window only"
    );
    for key in &bumped {
        let updated: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "SELECT updated FROM work_items WHERE integration_id = $1::uuid AND key = $2",
        )
        .bind(&integration_id)
        .bind(key)
        .fetch_one(&env.pool)
        .await
        .expect("bumped row");
        let project = key.split('-').next().unwrap_or_default();
        assert!(
            updated > cursors[project],
            "{key} was updated by the incremental run"
        );
    }

    // A deleted issue is marked, not left stale; the others stay.
    let gone = bumped.iter().next().cloned().expect("an issue to delete");
    assert!(env.simulator.delete_issue(&gone));
    let third = env.run_and_wait(&issues_job).await;
    assert_eq!(
        third.status,
        pb::RunStatus::Completed as i32,
        "{}",
        third.error_message
    );
    let deleted: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM work_items WHERE integration_id = $1::uuid AND deleted_at IS NOT NULL",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("deleted rows");
    assert_eq!(deleted, vec![gone.clone()]);

    // Reprocess with a new mapping: columns move, Jira is not called.
    env.custom_fields()
        .set_field_mapping(env.authed(mapping(vec![
            (&select_id, 4),
            (&cascade_id, 2),
            (&text_id, 0),
        ])))
        .await
        .expect("remap");
    env.simulator.reset_counts();
    let reprocess = env
        .custom_fields()
        .reprocess(env.authed(pb::ReprocessRequest {
            integration_id: integration_id.clone(),
            project_key: String::new(),
        }))
        .await
        .expect("reprocess")
        .into_inner();
    let run = env.wait_for_run(&reprocess.run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator.request_counts().values().sum::<u64>(),
        0,
        "reprocess calls no Jira endpoint"
    );
    let moved: Vec<(Option<Value>, Option<Value>)> = sqlx::query_as(
        "SELECT custom_field_01, custom_field_04 FROM work_items WHERE integration_id = $1::uuid",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("moved");
    let still_deleted: bool = sqlx::query_scalar(
        "SELECT deleted_at IS NOT NULL FROM work_items WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(&integration_id)
    .bind(&gone)
    .fetch_one(&env.pool)
    .await
    .expect("deleted row");
    assert!(
        still_deleted,
        "reprocessing old pages does not resurrect a deleted issue"
    );
    assert!(
        moved.iter().all(|(old, _)| old.is_none()),
        "column 1 is emptied"
    );
    assert!(
        moved.iter().filter(|(_, new)| new.is_some()).count() > 0,
        "column 4 holds the select values"
    );
    env.stop().await;
}

/// Keys of the issues a run's search pages returned.
async fn fetched_issue_keys(env: &TestEnv, run_id: &str) -> BTreeSet<String> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM raw_extraction_data WHERE run_id = $1::uuid AND extraction_type = 'jira.issues'")
        .bind(run_id)
        .fetch_all(&env.pool)
        .await
        .expect("pages");
    let mut keys = BTreeSet::new();
    for id in ids {
        let page = sluice_plumbing::raw::load(&env.pool, None, id)
            .await
            .expect("page");
        let body: Value = serde_json::from_slice(&page.body).expect("json");
        for issue in body["issues"].as_array().cloned().unwrap_or_default() {
            keys.insert(issue["key"].as_str().unwrap_or_default().to_string());
        }
    }
    keys
}

#[tokio::test]
async fn an_older_version_of_an_issue_never_overwrites_a_newer_one() {
    let env = TestEnv::start(Options::default()).await;
    let (integration_id, job_id) = env.create_jira_integration("out-of-order").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let raw_id: i64 =
        sqlx::query_scalar("SELECT min(id) FROM raw_extraction_data WHERE run_id = $1::uuid")
            .bind(&run.id)
            .fetch_one(&env.pool)
            .await
            .expect("a raw page");
    let context = pb::RunContext {
        tenant_id: env.tenant_id.to_string(),
        integration_id: integration_id.clone(),
        job_id: job_id.clone(),
        run_id: run.id.clone(),
        trace: None,
    };
    let version = |summary: &str, updated_ms: i64| pb::TransformedBatch {
        run: Some(context.clone()),
        raw_id,
        extraction_type: "jira.issues".into(),
        step: 3,
        work_items: vec![pb::WorkItemRow {
            external_id: "900001".into(),
            key: "EX-900".into(),
            summary: summary.into(),
            updated_ms,
            overflow_json: "{}".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (_connection, publisher) = env.publisher().await;
    let queue = publisher.topology().load();
    publisher
        .publish(&queue, &version("newer", 1_700_000_100_000))
        .await
        .expect("publish newer");
    wait_for_summary(&env, &integration_id, "newer").await;
    publisher
        .publish(&queue, &version("older", 1_700_000_000_000))
        .await
        .expect("publish older");
    // A marker published after the older version proves the older one was processed.
    let mut marker = version("marker", 1_700_000_000_000);
    marker.work_items[0].external_id = "900002".into();
    marker.work_items[0].key = "EX-901".into();
    publisher
        .publish(&queue, &marker)
        .await
        .expect("publish marker");
    wait_for_summary(&env, &integration_id, "marker").await;
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM work_items WHERE integration_id = $1::uuid AND external_id = '900001'",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("row");
    assert_eq!(summary, "newer");
    env.stop().await;
}

async fn wait_for_summary(env: &TestEnv, integration_id: &str, summary: &str) {
    for _ in 0..100 {
        let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM work_items WHERE integration_id = $1::uuid AND summary = $2)")
            .bind(integration_id)
            .bind(summary)
            .fetch_one(&env.pool)
            .await
            .expect("query");
        if found {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no work item with summary {summary:?} within 10 s");
}

#[tokio::test]
async fn a_malformed_issue_page_is_dead_lettered_and_the_other_projects_load() {
    let dataset = issue_dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    let (integration_id, _) = env
        .create_jira_integration_with_jobs("malformed-issues")
        .await;
    env.simulator.add_fault(sluice_simulator::Fault {
        // an issue page, not a key listing
        endpoint: "GET /rest/api/3/search/jql?expand=changelog".into(),
        kind: sluice_simulator::FaultKind::Malformed,
        times: 1,
    });
    let issues_job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&issues_job).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("malformed"),
        "{}",
        run.error_message
    );
    // One project's first page was unreadable; the two others landed completely.
    for _ in 0..100 {
        if env.count("work_items", &integration_id).await >= 2 * 70 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let per_project: Vec<(String, i64)> = sqlx::query_as(
        "SELECT project_key, count(*) FROM work_items WHERE integration_id = $1::uuid GROUP BY project_key ORDER BY project_key",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("per project");
    assert_eq!(
        per_project.iter().filter(|(_, n)| *n == 70).count(),
        2,
        "{per_project:?}"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_recorded_issue_lands_with_its_recorded_values_and_changelog() {
    let env = TestEnv::start(Options::default()).await;
    let (integration_id, job_ids) = env
        .create_jira_integration_with_jobs("fixture-issues")
        .await;
    for job_id in &job_ids {
        let run = env.run_and_wait(job_id).await;
        assert_eq!(
            run.status,
            pb::RunStatus::Completed as i32,
            "{}",
            run.error_message
        );
    }
    let rows = env.table_rows("work_items", &integration_id).await;
    // ED-1 (recorded in the Jira Cloud API examples) belongs to project EX; its description
    // is a v2-style plain string and its `updated` a bare number: both are accepted.
    let ed1 = rows
        .iter()
        .find(|r| r["key"] == "ED-1")
        .expect("ED-1 landed");
    assert_eq!(ed1["external_id"], "10002");
    assert_eq!(ed1["project_key"], "EX");
    assert_eq!(ed1["description_text"], "Main order flow broken");
    let histories: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT history_id) FROM work_item_changelogs WHERE integration_id = $1::uuid AND work_item_external_id = '10002'",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("changelog");
    assert_eq!(histories, 2, "the recorded changelog's two histories");
    env.stop().await;
}

#[tokio::test]
async fn without_a_development_index_every_issue_gets_its_summary_and_deleting_the_integration_removes_its_rows()
 {
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 20,
        seed: 3,
        custom_fields: 6,
        mean_histories: 4,
        long_changelog_every: 0,
        dev_status_every: 4,
    });
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    // A Jira Server or Data Center site without development tools: no Development field,
    // no `development` JQL.
    env.simulator.set_development_search(false);
    env.simulator.set_development_field(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("no-index").await;
    let (other_id, _) = env.create_jira_integration_with_jobs("other").await;
    let issues_job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    env.simulator.reset_counts();
    let run = env.run_and_wait(&issues_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator
            .request_count("GET /rest/dev-status/latest/issue/summary"),
        dataset.issue_count() as u64,
        "one summary per fetched issue"
    );
    // Every 4th issue has development work: 5 per project, each with pull requests.
    let linked: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT work_item_external_id) FROM work_item_dev_status
         WHERE integration_id = $1::uuid AND kind = 'pull_request'",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("dev status");
    assert_eq!(linked, 10);

    // The other integration syncs too; deleting the first removes its rows, not the other's.
    let other_job = env.job_of_type(&other_id, pb::JobType::JiraIssues).await;
    let other_run = env.run_and_wait(&other_job).await;
    assert_eq!(
        other_run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        other_run.error_message
    );
    env.integrations()
        .delete_integration(env.authed(pb::DeleteIntegrationRequest {
            id: integration_id.clone(),
        }))
        .await
        .expect("delete integration");
    for table in ["work_items", "work_item_changelogs", "work_item_dev_status"] {
        let (gone, kept): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FILTER (WHERE integration_id = $1::uuid),
                    count(*) FILTER (WHERE integration_id = $2::uuid) FROM {table}"
        )))
        .bind(&integration_id)
        .bind(&other_id)
        .fetch_one(&env.pool)
        .await
        .expect("counts");
        assert_eq!(gone, 0, "{table}: the deleted integration's rows are gone");
        assert!(kept > 0, "{table}: the other integration's rows stay");
    }
    env.stop().await;
}

/// The (issue, kind, item) triples of an integration's dev-status rows.
pub(crate) async fn dev_status_items(
    env: &TestEnv,
    integration_id: &str,
) -> BTreeSet<(String, String, String)> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT work_item_external_id, kind, ref_id FROM work_item_dev_status
         WHERE integration_id = $1::uuid",
    )
    .bind(integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("dev status rows")
    .into_iter()
    .collect()
}

#[tokio::test]
async fn a_malformed_dev_status_detail_page_is_dead_lettered_alone_and_its_group_loads() {
    // 20 issues with development work, three detail pages each: one group of 60 pages.
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 20,
        seed: 5,
        custom_fields: 4,
        mean_histories: 2,
        long_changelog_every: 0,
        dev_status_every: 2,
    });
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    let (clean_id, _) = env.create_jira_integration_with_jobs("clean").await;
    let clean_job = env.job_of_type(&clean_id, pb::JobType::JiraIssues).await;
    let clean_run = env.run_and_wait(&clean_job).await;
    assert_eq!(
        clean_run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        clean_run.error_message
    );
    let complete = dev_status_items(&env, &clean_id).await;
    let issues_with_dev: BTreeSet<&String> = complete.iter().map(|(issue, _, _)| issue).collect();
    assert_eq!(issues_with_dev.len(), 20);

    let (faulty_id, _) = env.create_jira_integration_with_jobs("faulty").await;
    env.simulator.add_fault(sluice_simulator::Fault {
        endpoint: "GET /rest/dev-status/latest/issue/detail".into(),
        kind: sluice_simulator::FaultKind::Malformed,
        times: 1,
    });
    let faulty_job = env.job_of_type(&faulty_id, pb::JobType::JiraIssues).await;
    let run = env.run_and_wait(&faulty_job).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message
            .contains("malformed jira.dev_status_detail page"),
        "{}",
        run.error_message
    );

    // The dead letter names the one bad page, not the group it travelled in.
    let dead = env.wait_for_dead_letters(1).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let letter = &dead[0];
    assert_eq!(letter.reason, "untransformable raw page");
    assert!(
        letter
            .error
            .contains("malformed jira.dev_status_detail page"),
        "{letter:?}"
    );
    assert!(
        !letter.payload_summary.contains("grouped"),
        "{}",
        letter.payload_summary
    );
    let raw_id: i64 = letter
        .payload_summary
        .strip_prefix("RawBatchRef raw page ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a raw page id in {:?}", letter.payload_summary));
    let (extraction_type, error): (String, Option<String>) = sqlx::query_as(
        "SELECT extraction_type, error_message FROM raw_extraction_data WHERE id = $1",
    )
    .bind(raw_id)
    .fetch_one(&env.pool)
    .await
    .expect("the dead-lettered page");
    assert_eq!(extraction_type, "jira.dev_status_detail");
    assert!(error.unwrap_or_default().contains("malformed"));

    // Every other page of the group loaded (in one transaction, possibly after the run
    // settled): only the bad page's items are missing, and they belong to one issue.
    let mut loaded = BTreeSet::new();
    for _ in 0..100 {
        loaded = dev_status_items(&env, &faulty_id).await;
        if !loaded.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded.is_subset(&complete), "nothing invented");
    let missing: BTreeSet<&String> = complete
        .difference(&loaded)
        .map(|(issue, _, _)| issue)
        .collect();
    assert_eq!(missing.len(), 1, "one issue's page was bad: {missing:?}");
    let missing_items = complete.len() - loaded.len();
    assert!(
        missing_items > 0 && missing_items < complete.len() / 10,
        "{missing_items} of {} items missing",
        complete.len()
    );
    env.stop().await;
}

#[tokio::test]
async fn a_field_mapped_after_the_first_sync_is_fetched_by_the_next_full_sync() {
    let dataset = Dataset::generated(1, 2, 3).with_issues(IssueSpec {
        issues_per_project: 20,
        seed: 17,
        custom_fields: 6,
        mean_histories: 2,
        long_changelog_every: 0,
        dev_status_every: 0,
    });
    let (text_id, _) = field_with(&dataset, |schema| {
        schema["custom"]
            .as_str()
            .is_some_and(|c| c.ends_with(":textfield"))
    });
    let env = TestEnv::start(Options {
        dataset,
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("late-mapping").await;
    for job_type in [pb::JobType::JiraDiscovery, pb::JobType::JiraIssues] {
        let job = env.job_of_type(&integration_id, job_type).await;
        assert_eq!(
            env.run_and_wait(&job).await.status,
            pb::RunStatus::Completed as i32
        );
    }
    let filled = |env: &TestEnv| {
        let pool = env.pool.clone();
        let id = integration_id.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM work_items WHERE integration_id = $1::uuid AND custom_field_01 IS NOT NULL",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("count")
        }
    };
    assert_eq!(filled(&env).await, 0);

    // The field was never asked of Jira: the answer says so, and Reprocess cannot fill it.
    let answer = env
        .custom_fields()
        .set_field_mapping(env.authed(pb::SetFieldMappingRequest {
            mapping: Some(pb::FieldMapping {
                integration_id: integration_id.clone(),
                project_key: String::new(),
                entries: vec![pb::FieldMappingEntry {
                    field_id: text_id.clone(),
                    column: 1,
                }],
            }),
            force: false,
        }))
        .await
        .expect("mapping")
        .into_inner();
    assert_eq!(answer.unfetched_field_ids, vec![text_id.clone()]);
    // The next issues sync fetches every issue again, with the field.
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        fetched_issue_keys(&env, &run.id).await.len(),
        20,
        "a full sync"
    );
    assert!(filled(&env).await > 0, "the newly mapped field has values");
    // Mapping it again is not news: no full sync.
    let again = env
        .custom_fields()
        .set_field_mapping(env.authed(pb::SetFieldMappingRequest {
            mapping: Some(pb::FieldMapping {
                integration_id: integration_id.clone(),
                project_key: String::new(),
                entries: vec![pb::FieldMappingEntry {
                    field_id: text_id,
                    column: 2,
                }],
            }),
            force: false,
        }))
        .await
        .expect("mapping")
        .into_inner();
    assert!(again.unfetched_field_ids.is_empty());
    env.stop().await;
}
