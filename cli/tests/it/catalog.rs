//! CatalogService reads what the loaders wrote: filtered work item and pull request lists
//! paged to the end without duplicates or gaps, one item with its mapped fields, changelog and
//! linked pull requests, bad filters named, and nothing of one tenant visible to another.

use std::collections::BTreeSet;

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, GithubDataset, GithubSpec, IssueSpec};
use tonic::Code;

use crate::github::{TOKEN, github_integration, github_simulator};
use crate::harness::{Options, TestEnv, with_key};

fn page(size: i32, token: &str) -> Option<pb::PageRequest> {
    Some(pb::PageRequest {
        page_size: size,
        page_token: token.into(),
    })
}

/// Every work item a request lists, page by page.
async fn all_work_items(env: &TestEnv, request: pb::ListWorkItemsRequest) -> Vec<pb::WorkItem> {
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let answer = env
            .catalog()
            .list_work_items(env.authed(pb::ListWorkItemsRequest {
                page: page(7, &token),
                ..request.clone()
            }))
            .await
            .expect("list work items")
            .into_inner();
        items.extend(answer.work_items);
        if answer.next_page_token.is_empty() {
            return items;
        }
        token = answer.next_page_token;
    }
}

fn keys(items: &[pb::WorkItem]) -> Vec<String> {
    items.iter().map(|w| w.key.clone()).collect()
}

#[tokio::test]
async fn work_items_list_filter_page_and_read_back_what_the_loader_wrote() {
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 25,
        seed: 31,
        custom_fields: 8,
        mean_histories: 3,
        long_changelog_every: 0,
        dev_status_every: 0,
    });
    let text_field = dataset
        .custom_fields()
        .into_iter()
        .find(|f| {
            f["schema"]["custom"]
                .as_str()
                .is_some_and(|c| c.ends_with(":textfield"))
        })
        .expect("a text field");
    let (field_id, field_name) = (
        text_field["id"].as_str().expect("id").to_string(),
        text_field["name"].as_str().expect("name").to_string(),
    );
    let env = TestEnv::start(Options {
        dataset,
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("catalog").await;
    for job_type in [pb::JobType::JiraDiscovery, pb::JobType::JiraIssues] {
        let job = env.job_of_type(&integration_id, job_type).await;
        if job_type == pb::JobType::JiraIssues {
            env.custom_fields()
                .set_field_mapping(env.authed(pb::SetFieldMappingRequest {
                    mapping: Some(pb::FieldMapping {
                        integration_id: integration_id.clone(),
                        project_key: String::new(),
                        entries: vec![pb::FieldMappingEntry {
                            field_id: field_id.clone(),
                            column: 3,
                        }],
                    }),
                    force: false,
                }))
                .await
                .expect("mapping");
        }
        let run = env.run_and_wait(&job).await;
        assert_eq!(
            run.status,
            pb::RunStatus::Completed as i32,
            "{}",
            run.error_message
        );
    }

    // Paging to the end: every live item exactly once, newest `updated` first.
    let everything = all_work_items(&env, pb::ListWorkItemsRequest::default()).await;
    assert_eq!(everything.len(), 50);
    let unique: BTreeSet<String> = keys(&everything).into_iter().collect();
    assert_eq!(unique.len(), 50, "no duplicates across pages");
    let times: Vec<i64> = everything
        .iter()
        .map(|w| w.updated.as_ref().map_or(0, |t| t.seconds))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Filters, each compared with the table.
    let in_p2 = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            project_key: "P0002".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(in_p2.len(), 25);
    assert!(in_p2.iter().all(|w| w.project_key == "P0002"));
    let done: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM work_items WHERE integration_id = $1::uuid AND status_category_key = 'done'",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("count");
    let listed_done = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            status_categories: vec!["done".into()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(listed_done.len() as i64, done);
    let some = &everything[3];
    let by_text = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            text: some.key.to_lowercase(),
            ..Default::default()
        },
    )
    .await;
    assert!(keys(&by_text).contains(&some.key), "text matches the key");
    let by_type = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            work_item_types: vec![some.work_item_type.clone()],
            statuses: vec![some.status.clone()],
            ..Default::default()
        },
    )
    .await;
    assert!(
        by_type
            .iter()
            .all(|w| w.work_item_type == some.work_item_type && w.status == some.status)
    );
    assert!(keys(&by_type).contains(&some.key));
    let newest = everything[0].updated;
    let since_newest = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            updated: Some(pb::TimeRange {
                from: newest,
                to: None,
            }),
            ..Default::default()
        },
    )
    .await;
    assert!(!since_newest.is_empty() && since_newest.len() < 50);

    // Bad filters are named.
    for (request, field) in [
        (
            pb::ListWorkItemsRequest {
                status_categories: vec!["finished".into()],
                ..Default::default()
            },
            "status_categories[0]",
        ),
        (
            pb::ListWorkItemsRequest {
                page: page(10, "garbage"),
                ..Default::default()
            },
            "page.page_token",
        ),
        (
            pb::ListWorkItemsRequest {
                integration_id: "not-a-uuid".into(),
                ..Default::default()
            },
            "integration_id",
        ),
    ] {
        let status = env
            .catalog()
            .list_work_items(env.authed(request))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }

    // One item: the mapped field under its name with the value the loader wrote, the
    // changelog as stored.
    let item = env
        .catalog()
        .get_work_item(env.authed(pb::GetWorkItemRequest {
            integration_id: integration_id.clone(),
            key: some.key.clone(),
        }))
        .await
        .expect("get work item")
        .into_inner();
    let (stored_value, stored_histories): (Option<serde_json::Value>, i64) = sqlx::query_as(
        "SELECT custom_field_03, (SELECT count(*) FROM work_item_changelogs c
                                  WHERE c.integration_id = w.integration_id AND c.work_item_external_id = w.external_id)
         FROM work_items w WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(&integration_id)
    .bind(&some.key)
    .fetch_one(&env.pool)
    .await
    .expect("stored");
    assert_eq!(item.changelog.len() as i64, stored_histories);
    assert!(stored_histories > 0);
    match stored_value {
        Some(value) => {
            let mapped = item
                .custom_fields
                .iter()
                .find(|f| f.column == 3)
                .expect("the mapped field is shown");
            assert_eq!(mapped.field_id, field_id);
            assert_eq!(mapped.name, field_name);
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&mapped.value_json).expect("json"),
                value
            );
        }
        None => assert!(item.custom_fields.iter().all(|f| f.column != 3)),
    }
    assert!(
        item.work_item
            .as_ref()
            .is_some_and(|w| w.url.ends_with(&format!("/browse/{}", some.key)))
    );

    // A deleted item is listed only when asked for.
    assert!(env.simulator.delete_issue(&some.key));
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(run.status, pb::RunStatus::Completed as i32);
    let live = all_work_items(&env, pb::ListWorkItemsRequest::default()).await;
    assert!(!keys(&live).contains(&some.key));
    let deleted = all_work_items(
        &env,
        pb::ListWorkItemsRequest {
            deleted: pb::DeletedFilter::Deleted as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(keys(&deleted), vec![some.key.clone()]);
    assert!(deleted[0].deleted_at.is_some());

    // Another tenant sees nothing of these.
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("catalog-other-{}", uuid::Uuid::new_v4()),
        "k",
    )
    .await
    .expect("other tenant");
    let theirs = env
        .catalog()
        .list_work_items(with_key(
            &other.key,
            pb::ListWorkItemsRequest {
                integration_id: integration_id.clone(),
                deleted: pb::DeletedFilter::All as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("list as another tenant")
        .into_inner();
    assert!(theirs.work_items.is_empty());
    let missing = env
        .catalog()
        .get_work_item(with_key(
            &other.key,
            pb::GetWorkItemRequest {
                integration_id: integration_id.clone(),
                key: everything[0].key.clone(),
            },
        ))
        .await
        .expect_err("another tenant's item");
    assert_eq!(missing.code(), Code::NotFound);
    env.stop().await;
}

#[tokio::test]
async fn pull_requests_list_and_read_with_their_details_and_linked_work_items() {
    let env = TestEnv::start(Options {
        // 100 issues: every key a generated pull request mentions (P0001-1..100) exists.
        dataset: Dataset::generated(1, 2, 3).with_issues(IssueSpec {
            issues_per_project: 100,
            seed: 3,
            custom_fields: 2,
            mean_histories: 1,
            long_changelog_every: 0,
            dev_status_every: 0,
        }),
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (jira_id, _) = env.create_jira_integration_with_jobs("linked-jira").await;
    let issues = env.job_of_type(&jira_id, pb::JobType::JiraIssues).await;
    assert_eq!(
        env.run_and_wait(&issues).await.status,
        pb::RunStatus::Completed as i32
    );
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 2,
        prs_per_repo: 13,
        jira_keys: vec!["P0001".into()],
        mention_every: 2,
        ..crate::github::spec(&[])
    });
    let github = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (github_id, job) = github_integration(&env, &github, "catalog-gh", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );

    let mut listed = Vec::new();
    let mut token = String::new();
    loop {
        let answer = env
            .catalog()
            .list_pull_requests(env.authed(pb::ListPullRequestsRequest {
                integration_id: github_id.clone(),
                page: page(5, &token),
                ..Default::default()
            }))
            .await
            .expect("list pull requests")
            .into_inner();
        listed.extend(answer.pull_requests);
        if answer.next_page_token.is_empty() {
            break;
        }
        token = answer.next_page_token;
    }
    assert_eq!(listed.len(), dataset.pr_count());
    let unique: BTreeSet<(String, i64)> = listed
        .iter()
        .map(|p| (p.repository.clone(), p.number))
        .collect();
    assert_eq!(unique.len(), listed.len(), "no duplicates across pages");
    let merged = env
        .catalog()
        .list_pull_requests(env.authed(pb::ListPullRequestsRequest {
            state: "merged".into(),
            page: page(500, ""),
            ..Default::default()
        }))
        .await
        .expect("merged")
        .into_inner()
        .pull_requests;
    assert!(merged.iter().all(|p| p.merged));
    let bad = env
        .catalog()
        .list_pull_requests(env.authed(pb::ListPullRequestsRequest {
            state: "abandoned".into(),
            ..Default::default()
        }))
        .await
        .expect_err("bad state");
    assert!(bad.message().starts_with("state:"), "{}", bad.message());

    // One pull request with its details; its mentioned work item links back.
    let (repository, number, jira_key): (String, i64, String) = sqlx::query_as(
        "SELECT p.repository, p.number, l.jira_key FROM pr_work_item_links l
         JOIN pull_requests p ON p.integration_id = l.integration_id AND p.repository_id = l.repository_id AND p.number = l.pr_number
         JOIN work_items w ON w.tenant_id = l.tenant_id AND w.key = l.jira_key
         WHERE l.integration_id = $1::uuid ORDER BY p.repository, p.number LIMIT 1",
    )
    .bind(&github_id)
    .fetch_one(&env.pool)
    .await
    .expect("a pull request mentioning a synced issue");
    let detail = env
        .catalog()
        .get_pull_request(env.authed(pb::GetPullRequestRequest {
            integration_id: github_id.clone(),
            repository: repository.clone(),
            number,
        }))
        .await
        .expect("get pull request")
        .into_inner();
    let (commits, reviews, comments): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pr_commits c WHERE c.integration_id = p.integration_id AND c.repository_id = p.repository_id AND c.pr_number = p.number),
                (SELECT count(*) FROM pr_reviews r WHERE r.integration_id = p.integration_id AND r.repository_id = p.repository_id AND r.pr_number = p.number),
                (SELECT count(*) FROM pr_comments m WHERE m.integration_id = p.integration_id AND m.repository_id = p.repository_id AND m.pr_number = p.number)
         FROM pull_requests p WHERE p.integration_id = $1::uuid AND p.repository = $2 AND p.number = $3",
    )
    .bind(&github_id)
    .bind(&repository)
    .bind(number)
    .fetch_one(&env.pool)
    .await
    .expect("counts");
    assert_eq!(
        (
            detail.commits.len() as i64,
            detail.reviews.len() as i64,
            detail.comments.len() as i64
        ),
        (commits, reviews, comments)
    );
    assert!(detail.linked_work_items.iter().any(|w| w.key == jira_key));
    let item = env
        .catalog()
        .get_work_item(env.authed(pb::GetWorkItemRequest {
            integration_id: jira_id.clone(),
            key: jira_key.clone(),
        }))
        .await
        .expect("the linked work item")
        .into_inner();
    assert!(
        item.linked_pull_requests
            .iter()
            .any(|p| p.repository == repository && p.number == number)
    );

    // Another tenant sees none of them.
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("catalog-gh-other-{}", uuid::Uuid::new_v4()),
        "k",
    )
    .await
    .expect("other tenant");
    let theirs = env
        .catalog()
        .list_pull_requests(with_key(&other.key, pb::ListPullRequestsRequest::default()))
        .await
        .expect("list as another tenant")
        .into_inner();
    assert!(theirs.pull_requests.is_empty());
    github.shutdown();
    env.stop().await;
}
