//! Dev status at the cost each kind of Jira site allows (README, "Dev status: calls per
//! issue"): the same rows whatever the site offers, no call for an issue without development
//! information where the site says so, and a pull request linked later (which does not move
//! the issue's `updated`) still picked up by the next incremental run.

use std::collections::BTreeSet;

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, IssueSpec};

use crate::harness::{Options, TestEnv};
use crate::issues::dev_status_items;

const SUMMARY: &str = "GET /rest/dev-status/latest/issue/summary";
const DETAIL: &str = "GET /rest/dev-status/latest/issue/detail";

fn dataset() -> Dataset {
    Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 30,
        seed: 21,
        custom_fields: 4,
        mean_histories: 3,
        long_changelog_every: 0,
        dev_status_every: 3,
    })
}

/// Detail calls the rows imply: one per data type an issue has (pull requests, branches, and
/// commits, which come with the repository detail).
fn detail_calls_for(rows: &BTreeSet<(String, String, String)>) -> u64 {
    rows.iter()
        .map(|(issue, kind, _)| (issue.clone(), kind.clone()))
        .collect::<BTreeSet<_>>()
        .len() as u64
}

/// The run's dev-status progress: (issues it counted, issues it finished).
async fn dev_progress(env: &TestEnv, job: &str) -> (i64, i64) {
    sqlx::query_as(
        "SELECT dev_status_issues, dev_status_done FROM job_runs WHERE job_id = $1::uuid
         ORDER BY started_at DESC LIMIT 1",
    )
    .bind(job)
    .fetch_one(&env.pool)
    .await
    .expect("run")
}

async fn sync(env: &TestEnv, name: &str) -> (String, String) {
    let (integration_id, _) = env.create_jira_integration_with_jobs(name).await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{name}: {}",
        run.error_message
    );
    (integration_id, job)
}

#[tokio::test]
async fn every_kind_of_site_lands_the_same_dev_status_at_its_own_cost() {
    let dataset = dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    let issues = dataset.issue_count() as u64;

    // Jira Cloud: the Development field in the search results says which issues have
    // something and of what kind.
    env.simulator.reset_counts();
    let (cloud, cloud_job) = sync(&env, "cloud").await;
    let cloud_rows = dev_status_items(&env, &cloud).await;
    let with_development = cloud_rows
        .iter()
        .map(|(issue, _, _)| issue.clone())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    assert!(with_development > 0 && with_development < issues);
    // Progress counts the issues that get dev status, and all of them finished.
    let both = with_development as i64;
    assert_eq!(dev_progress(&env, &cloud_job).await, (both, both));
    assert_eq!(env.simulator.request_count(SUMMARY), 0, "no summary call");
    assert_eq!(
        env.simulator.request_count(DETAIL),
        detail_calls_for(&cloud_rows),
        "a detail call per data type an issue has, none for the {} issues without",
        issues - with_development
    );

    // A site without the field whose JQL knows `development[…]`: the index names the issues,
    // each one's summary names the data types.
    env.simulator.set_development_field(false);
    env.simulator.reset_counts();
    let (indexed, indexed_job) = sync(&env, "indexed").await;
    let indexed_rows = dev_status_items(&env, &indexed).await;
    assert_eq!(dev_progress(&env, &indexed_job).await, (both, both));
    assert_eq!(env.simulator.request_count(SUMMARY), with_development);
    assert_eq!(
        env.simulator.request_count(DETAIL),
        detail_calls_for(&indexed_rows)
    );

    // Neither (Jira Server or Data Center without development tools in JQL): a summary per
    // issue.
    env.simulator.set_development_search(false);
    env.simulator.reset_counts();
    let (plain, plain_job) = sync(&env, "plain").await;
    let plain_rows = dev_status_items(&env, &plain).await;
    let all = issues as i64;
    assert_eq!(dev_progress(&env, &plain_job).await, (all, all));
    assert_eq!(env.simulator.request_count(SUMMARY), issues);
    assert_eq!(
        env.simulator.request_count(DETAIL),
        detail_calls_for(&plain_rows)
    );

    assert_eq!(
        indexed_rows, cloud_rows,
        "the same rows from every kind of site"
    );
    assert_eq!(
        plain_rows, cloud_rows,
        "the same rows from every kind of site"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_pull_request_linked_later_is_picked_up_though_the_issue_did_not_change() {
    let dataset = dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        ..Options::default()
    })
    .await;
    let (integration_id, job) = sync(&env, "linked-later").await;
    let before = dev_status_items(&env, &integration_id).await;

    // An issue without development information gets a pull request; its `updated` stays.
    let (key, id, updated): (String, String, String) = sqlx::query_as(
        "SELECT key, external_id, updated::text FROM work_items w
         WHERE integration_id = $1::uuid AND NOT EXISTS (
             SELECT 1 FROM work_item_dev_status d WHERE d.integration_id = w.integration_id
               AND d.work_item_external_id = w.external_id)
         ORDER BY key LIMIT 1",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("an issue without dev status");
    assert!(env.simulator.link_pull_request(&key));

    env.simulator.reset_counts();
    let second = env.run_and_wait(&job).await;
    assert_eq!(
        second.status,
        pb::RunStatus::Completed as i32,
        "{}",
        second.error_message
    );
    let after = dev_status_items(&env, &integration_id).await;
    let added: BTreeSet<_> = after.difference(&before).cloned().collect();
    let kinds: BTreeSet<&str> = added.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert!(
        added.iter().all(|(issue, _, _)| *issue == id) && kinds.contains("pull_request"),
        "{key}'s new pull request landed, nothing else changed: {added:?}"
    );
    let still: String = sqlx::query_scalar(
        "SELECT updated::text FROM work_items WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(&integration_id)
    .bind(&key)
    .fetch_one(&env.pool)
    .await
    .expect("row");
    assert_eq!(still, updated, "linking did not move {key}'s updated");
    assert_eq!(env.simulator.request_count(SUMMARY), 0);
    assert_eq!(
        env.simulator.request_count(DETAIL),
        detail_calls_for(&added),
        "details for the one changed issue only"
    );

    // Nothing changed since: no dev-status call at all.
    env.simulator.reset_counts();
    let third = env.run_and_wait(&job).await;
    assert_eq!(third.status, pb::RunStatus::Completed as i32);
    assert_eq!(env.simulator.request_count(DETAIL), 0);
    assert_eq!(dev_status_items(&env, &integration_id).await, after);
    env.stop().await;
}
