//! /field, createmeta and dev-status.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use super::*;

#[tokio::test]
async fn field_list_covers_every_custom_type() {
    let sim = generated_sim(5).await;
    let client = client();
    let fields = get_json(&client, &format!("{}/rest/api/3/field", sim.base_url())).await;
    let fields = fields.as_array().expect("bare array");
    let ids: BTreeSet<&str> = fields.iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids.len(), fields.len(), "no duplicates");
    for id in [
        "summary",
        "description",
        "status",
        "issuetype",
        "priority",
        "assignee",
        "reporter",
        "created",
        "updated",
        "resolutiondate",
        "resolution",
        "labels",
        "components",
        "fixVersions",
        "parent",
        "project",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    let customs: BTreeSet<&str> = fields
        .iter()
        .filter(|f| f["custom"] == true)
        .filter_map(|f| f["schema"]["custom"].as_str())
        .collect();
    for suffix in [
        "textfield",
        "float",
        "jsw-story-points",
        "datepicker",
        "datetime",
        "select",
        "multiselect",
        "userpicker",
        "multiuserpicker",
        "version",
        "multiversion",
        "gh-sprint",
        "cascadingselect",
        "textarea",
        "url",
        "labels",
        "atlassian-team",
        "gh-epic-link",
    ] {
        assert!(
            customs.iter().any(|c| c.rsplit(':').next() == Some(suffix)),
            "{suffix}"
        );
    }
    let points = fields
        .iter()
        .find(|f| f["name"] == "Story point estimate")
        .expect("story points");
    assert_eq!(points["schema"]["type"], "number");
    let multi = fields
        .iter()
        .find(|f| {
            f["schema"]["custom"]
                .as_str()
                .is_some_and(|c| c.ends_with(":multiselect"))
        })
        .expect("multiselect");
    assert_eq!(multi["schema"]["items"], "option");
    assert_eq!(
        multi["clauseNames"][0],
        format!("cf[{}]", multi["schema"]["customId"])
    );
    let dataset = Dataset::generated(3, 4, 5).with_issues(small_spec(5));
    assert_eq!(dataset.custom_fields().len(), 30);
    assert_eq!(dataset.custom_fields()[0]["id"], "customfield_10001");

    // recorded sites: field.json merged with field.jira-cli.json
    let recorded = start(Dataset::fixtures(), SimAuth::Anonymous).await;
    let fields = get_json(
        &client,
        &format!("{}/rest/api/3/field", recorded.base_url()),
    )
    .await;
    let ids: Vec<&str> = fields
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "description",
            "summary",
            "fixVersions",
            "customfield_10111",
            "timespent"
        ]
    );
    assert_eq!(Dataset::fixtures().custom_fields().len(), 1);
    assert_eq!(sim.request_count("GET /rest/api/3/field"), 1);
    sim.shutdown();
    recorded.shutdown();
}

#[tokio::test]
async fn createmeta_new_and_deprecated() {
    let sim = generated_sim(5).await;
    let client = client();
    let base = sim.base_url();
    let types = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/P0001/issuetypes"),
    )
    .await;
    assert_eq!(types["total"], 4);
    assert_eq!(types["startAt"], 0);
    assert_eq!(types["issueTypes"][0]["name"], "Epic");
    let paged = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/20001/issuetypes?startAt=1&maxResults=2"),
    )
    .await;
    assert_eq!(paged["issueTypes"].as_array().map(Vec::len), Some(2));
    assert_eq!(paged["maxResults"], 2);

    let fields = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/P0001/issuetypes/10004?maxResults=200"),
    )
    .await;
    let list = fields["fields"].as_array().expect("fields");
    assert_eq!(fields["total"].as_u64(), Some(list.len() as u64));
    let summary = list
        .iter()
        .find(|f| f["fieldId"] == "summary")
        .expect("summary");
    assert_eq!(summary["required"], true);
    let parent = list
        .iter()
        .find(|f| f["fieldId"] == "parent")
        .expect("parent");
    assert_eq!(parent["required"], true, "sub-tasks need a parent");
    let select = list
        .iter()
        .find(|f| f["schema"]["type"] == "option")
        .expect("select");
    assert!(
        select["allowedValues"]
            .as_array()
            .is_some_and(|v| v.len() >= 3)
    );
    let cascade = list
        .iter()
        .find(|f| f["schema"]["type"] == "option-with-child")
        .expect("cascade");
    assert!(cascade["allowedValues"][0]["children"].is_array());

    let (status, _) = get(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/NOPE/issuetypes"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/P0001/issuetypes/99"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let legacy = get_json(
        &client,
        &format!(
            "{base}/rest/api/3/issue/createmeta?projectKeys=P0002&expand=projects.issuetypes.fields"
        ),
    )
    .await;
    let projects = legacy["projects"].as_array().expect("projects");
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["key"], "P0002");
    let epic = &projects[0]["issuetypes"][0];
    assert_eq!(epic["fields"]["summary"]["required"], true);
    assert_eq!(epic["fields"]["summary"]["key"], "summary");
    assert!(epic["fields"].get("parent").is_none());
    let bare = get_json(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta?projectKeys=P0002"),
    )
    .await;
    assert!(bare["projects"][0]["issuetypes"][0].get("fields").is_none());

    sim.set_new_createmeta(false);
    let (status, body) = get(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/P0001/issuetypes"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.starts_with("No resource found"))
    );
    let (status, _) = get(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta/P0001/issuetypes/10001"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &client,
        &format!("{base}/rest/api/3/issue/createmeta?projectKeys=P0001"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the deprecated endpoint remains");
    assert_eq!(
        sim.request_count("GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"),
        4
    );
    assert_eq!(
        sim.request_count(
            "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"
        ),
        3
    );
    assert_eq!(sim.request_count("GET /rest/api/3/issue/createmeta"), 3);
    sim.shutdown();
}

fn count(summary: &Value, kind: &str) -> u64 {
    summary["summary"][kind]["overall"]["count"]
        .as_u64()
        .expect("count")
}

#[tokio::test]
async fn dev_status_summary_and_detail() {
    let sim = generated_sim(8).await;
    let client = client();
    let base = sim.base_url();
    // every 4th generated issue has dev info: P0001-4 is generated issue 3, id 100004
    let with = get_json(
        &client,
        &format!("{base}/rest/dev-status/latest/issue/summary?issueId=100004"),
    )
    .await;
    assert_eq!(with["errors"], serde_json::json!([]));
    let prs = count(&with, "pullrequest");
    assert!(prs >= 1);
    assert!(count(&with, "branch") >= 1 && count(&with, "repository") >= 1);
    assert_eq!(
        with["summary"]["pullrequest"]["byInstanceType"]["GitHub"]["count"].as_u64(),
        Some(prs)
    );
    let without = get_json(
        &client,
        &format!("{base}/rest/dev-status/1.0/issue/summary?issueId=100001"),
    )
    .await;
    assert_eq!(count(&without, "pullrequest"), 0);
    assert_eq!(
        without["summary"]["pullrequest"]["overall"]["state"],
        "OPEN"
    );

    let detail = get_json(&client, &format!("{base}/rest/dev-status/latest/issue/detail?issueId=100004&applicationType=GitHub&dataType=pullrequest")).await;
    let list = detail["detail"][0]["pullRequests"].as_array().expect("prs");
    assert_eq!(list.len() as u64, prs);
    let pr = &list[0];
    assert!(pr["id"].as_str().is_some_and(|id| id.starts_with('#')));
    assert!(["MERGED", "OPEN", "DECLINED"].contains(&pr["status"].as_str().unwrap_or_default()));
    assert_eq!(pr["destination"]["branch"], "main");
    assert!(
        pr["source"]["branch"]
            .as_str()
            .is_some_and(|b| b.contains("P0001-4"))
    );
    assert_eq!(detail["detail"][0]["_instance"]["type"], "github");
    let repos = get_json(&client, &format!("{base}/rest/dev-status/1.0/issue/detail?issueId=100004&applicationType=github&dataType=repository")).await;
    let commit = &repos["detail"][0]["repositories"][0]["commits"][0];
    assert_eq!(commit["id"].as_str().map(str::len), Some(40));
    assert!(
        commit["message"]
            .as_str()
            .is_some_and(|m| m.contains("P0001-4"))
    );
    let branches = get_json(&client, &format!("{base}/rest/dev-status/latest/issue/detail?issueId=100004&applicationType=GitHub&dataType=branch")).await;
    assert!(branches["detail"][0]["branches"][0]["repository"]["name"].is_string());
    assert_eq!(branches["detail"][0]["pullRequests"], serde_json::json!([]));

    let (status, _) = get(
        &client,
        &format!("{base}/rest/dev-status/latest/issue/summary?issueId=999"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &client,
        &format!("{base}/rest/dev-status/latest/issue/summary?issueId=P0001-4"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        sim.request_count("GET /rest/dev-status/latest/issue/summary"),
        3
    );
    assert_eq!(
        sim.request_count("GET /rest/dev-status/1.0/issue/detail"),
        1
    );
    sim.shutdown();
}

#[tokio::test]
async fn development_jql_finds_exactly_the_issues_with_dev_info() {
    let sim = generated_sim(12).await;
    let client = client();
    let base = sim.base_url();
    for (clause, data_type, list) in [
        (
            "development[pullrequests].all > 0",
            "pullrequest",
            "pullRequests",
        ),
        ("development[branches].all > 0", "branch", "branches"),
        ("development[commits].all > 0", "repository", "repositories"),
    ] {
        let jql = format!("project = P0001 AND {clause} ORDER BY key ASC");
        let (issues, _) = search_all(
            &client,
            &sim,
            &[
                ("jql", jql.as_str()),
                ("fields", "key"),
                ("maxResults", "5000"),
            ],
        )
        .await;
        // every 4th generated issue has development work: P0001-4, -8, -12
        assert_eq!(
            keys(&issues),
            ["P0001-4", "P0001-8", "P0001-12"],
            "{clause}"
        );
        for issue in &issues {
            let id = issue["id"].as_str().expect("id");
            let detail = get_json(&client, &format!("{base}/rest/dev-status/latest/issue/detail?issueId={id}&applicationType=GitHub&dataType={data_type}")).await;
            assert!(
                detail["detail"][0][list]
                    .as_array()
                    .is_some_and(|l| !l.is_empty()),
                "{clause}: {id} has {list}"
            );
        }
    }
    // `= 0` is the complement
    let (none, _) = search_all(
        &client,
        &sim,
        &[
            (
                "jql",
                "project = P0001 AND development[pullrequests].all = 0",
            ),
            ("fields", "key"),
        ],
    )
    .await;
    assert_eq!(none.len(), 9);

    // a site without development tools does not know the field
    sim.set_development_search(false);
    let (status, error) = get(
        &client,
        &format!("{base}/rest/api/3/search/jql?jql=project%20%3D%20P0001%20AND%20development%5Bpullrequests%5D.all%20%3E%200"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("Field 'development' does not exist"))
    );
    sim.shutdown();
}

#[tokio::test]
async fn the_development_field_carries_the_summary_and_a_later_link_keeps_updated() {
    let sim = generated_sim(8).await;
    let client = client();
    let base = sim.base_url();
    let fields = get_json(&client, &format!("{base}/rest/api/3/field")).await;
    let development = fields
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| {
            f["schema"]["custom"]
                .as_str()
                .is_some_and(|c| c.ends_with(":devsummarycf"))
        })
        .expect("the Development field is listed");
    let id = development["id"].as_str().expect("id").to_string();
    let issue = |key: &str| {
        let (client, url) = (
            client.clone(),
            format!("{base}/rest/api/3/issue/{key}?fields=updated,{id}"),
        );
        async move { get_json(&client, &url).await }
    };
    // P0001-4 has development information, P0001-1 none.
    let with = issue("P0001-4").await;
    let text = with["fields"][&id].as_str().expect("a text value");
    assert!(
        text.starts_with("{pullrequest={dataType=pullrequest"),
        "{text}"
    );
    let json_part: Value =
        serde_json::Deserializer::from_str(&text[text.find("json=").expect("json") + 5..])
            .into_iter()
            .next()
            .expect("json")
            .expect("valid json");
    let summary = get_json(
        &client,
        &format!("{base}/rest/dev-status/latest/issue/summary?issueId=100004"),
    )
    .await;
    assert_eq!(
        json_part["cachedValue"]["summary"]["pullrequest"]["overall"]["count"],
        summary["summary"]["pullrequest"]["overall"]["count"]
    );
    let without = issue("P0001-1").await;
    assert_eq!(without["fields"][&id], "{}");

    // A pull request linked later shows everywhere, and `updated` does not move.
    assert!(sim.link_pull_request("P0001-1"));
    let linked = issue("P0001-1").await;
    assert_eq!(linked["fields"]["updated"], without["fields"]["updated"]);
    assert!(
        linked["fields"][&id]
            .as_str()
            .is_some_and(|t| t.contains("\"count\":1"))
    );
    let summary = get_json(
        &client,
        &format!("{base}/rest/dev-status/latest/issue/summary?issueId=100001"),
    )
    .await;
    assert_eq!(count(&summary, "pullrequest"), 1);
    let (found, _) = search_all(
        &client,
        &sim,
        &[
            (
                "jql",
                "project = P0001 AND key = P0001-1 AND development[pullrequests].all > 0",
            ),
            ("fields", "key"),
        ],
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(!sim.link_pull_request("NOPE-1"));

    // Jira Server and Data Center have no such field.
    sim.set_development_field(false);
    let fields = get_json(&client, &format!("{base}/rest/api/3/field")).await;
    assert!(
        fields
            .as_array()
            .expect("fields")
            .iter()
            .all(|f| f["id"] != id.as_str())
    );
    assert!(issue("P0001-4").await["fields"].get(&id).is_none());
    sim.shutdown();
}
