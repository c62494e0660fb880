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

/// Pull-request rows of an integration's dev status, every column.
type PullRequestRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

async fn pull_request_rows(env: &TestEnv, integration_id: &str) -> BTreeSet<PullRequestRow> {
    sqlx::query_as::<_, PullRequestRow>(
        "SELECT w.key, d.ref_id, d.name, d.status, d.url, d.repository, d.author_name,
                d.last_update::text
         FROM work_item_dev_status d
         JOIN work_items w ON w.integration_id = d.integration_id AND w.external_id = d.work_item_external_id
         WHERE d.integration_id = $1::uuid AND d.kind = 'pull_request'",
    )
    .bind(integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("pull request rows")
    .into_iter()
    .collect()
}

#[tokio::test]
async fn pull_requests_a_synced_github_integration_links_cost_no_jira_detail_call() {
    use crate::github::{TOKEN, github_integration, github_simulator, spec};
    use sluice_simulator::{GithubDataset, PullRequestSpec};

    // Issues without development information of their own: what they get is linked below.
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 100,
        seed: 5,
        custom_fields: 2,
        mean_histories: 1,
        long_changelog_every: 0,
        dev_status_every: 0,
    });
    let env = TestEnv::start(Options {
        dataset,
        ..Options::default()
    })
    .await;
    // The Jira integration syncs first: pull requests are linked to the keys of projects
    // the tenant syncs.
    let (from_github, from_github_job) = sync(&env, "from-github").await;
    let github = github_simulator(
        GithubDataset::generated(spec(&["P0001", "P0002"])),
        &[TOKEN],
    )
    .await;
    let (github_id, github_job) =
        github_integration(&env, &github, "github", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&github_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );

    // Jira's GitHub app links the pull requests that mention an issue, as Sluice found them.
    #[derive(sqlx::FromRow)]
    struct Link {
        jira_key: String,
        html_url: String,
        repository: String,
        number: i64,
        title: String,
        state: String,
        merged: bool,
        author_login: String,
        head_ref: String,
        updated_ms: i64,
    }
    let links: Vec<Link> = sqlx::query_as(
        "SELECT DISTINCT l.jira_key, p.html_url, p.repository, p.number, p.title, p.state,
                p.merged, p.author_login, p.head_ref,
                (extract(epoch FROM p.updated_at) * 1000)::bigint AS updated_ms
         FROM pr_work_item_links l
         JOIN pull_requests p ON p.integration_id = l.integration_id
                             AND p.repository_id = l.repository_id AND p.number = l.pr_number
         WHERE l.integration_id = $1::uuid
         ORDER BY 1, 2",
    )
    .bind(&github_id)
    .fetch_all(&env.pool)
    .await
    .expect("links");
    let mut linked_keys = BTreeSet::new();
    for link in links {
        let status = match (link.merged, link.state.as_str()) {
            (true, _) => "MERGED",
            (false, "open") => "OPEN",
            _ => "DECLINED",
        };
        let spec = PullRequestSpec {
            url: link.html_url,
            repository: link.repository,
            number: link.number as u64,
            title: link.title,
            status: status.into(),
            author: link.author_login,
            branch: link.head_ref,
            updated_ms: link.updated_ms,
        };
        assert!(
            env.simulator
                .link_existing_pull_request(&link.jira_key, spec),
            "{}",
            link.jira_key
        );
        linked_keys.insert(link.jira_key);
    }
    assert!(
        linked_keys.len() > 20,
        "{} issues linked",
        linked_keys.len()
    );
    // One issue also has a pull request in a repository Sluice does not sync: Jira counts
    // one more than GitHub links, so Jira is asked for that issue.
    let partly = linked_keys.first().expect("a linked issue").clone();
    assert!(env.simulator.link_existing_pull_request(
        &partly,
        PullRequestSpec {
            url: "https://github.com/elsewhere/tools/pull/3".into(),
            repository: "elsewhere/tools".into(),
            number: 3,
            title: format!("{partly}: tooling"),
            status: "OPEN".into(),
            author: "someone".into(),
            branch: format!("feature/{partly}"),
            updated_ms: 1_764_496_800_000,
        }
    ));
    let issues = linked_keys.len() as u64;

    // Default: the next run finds the issues whose development information changed, and
    // their pull-request details come from the GitHub integration; branches and repositories
    // (with commits) are still asked of Jira.
    env.simulator.reset_counts();
    let run = env.run_and_wait(&from_github_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator.request_count(DETAIL),
        2 * issues + 1,
        "branch and repository details for each of the {issues} issues, the pull-request detail only for {partly}"
    );
    let assembled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM raw_extraction_data
         WHERE integration_id = $1::uuid AND extraction_type = 'jira.dev_status_from_github'",
    )
    .bind(&from_github)
    .fetch_one(&env.pool)
    .await
    .expect("count");
    assert_eq!(assembled as u64, issues - 1);

    // The setting off: every detail is asked of Jira, and the rows are the same.
    env.simulator.reset_counts();
    let (from_jira, _) = env.create_jira_integration_with_jobs("from-jira").await;
    env.integrations()
        .update_integration(env.authed(pb::UpdateIntegrationRequest {
            id: from_jira.clone(),
            settings: Some(pb::IntegrationSettings {
                source: Some(pb::integration_settings::Source::Jira(pb::JiraSettings {
                    pull_requests_from_github: Some(false),
                    ..Default::default()
                })),
            }),
            ..Default::default()
        }))
        .await
        .expect("switch the setting off");
    let job = env.job_of_type(&from_jira, pb::JobType::JiraIssues).await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(env.simulator.request_count(DETAIL), 3 * issues);

    let ours = pull_request_rows(&env, &from_github).await;
    let jiras = pull_request_rows(&env, &from_jira).await;
    assert!(
        ours.iter()
            .any(|row| row.0 == partly && row.4.contains("elsewhere/tools"))
    );
    assert_eq!(ours.len(), jiras.len());
    assert_eq!(
        ours, jiras,
        "the same pull-request rows as Jira's own details"
    );
    env.stop().await;
    github.shutdown();
}
