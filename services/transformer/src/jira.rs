//! Jira metadata pages → typed rows. Parsing is typed and borrowing (see PERFORMANCE.md:
//! five times cheaper than `serde_json::Value`); a page that does not have the documented
//! shape is an error naming what is wrong, never a panic.

use std::borrow::Cow;

use serde::Deserialize;
use sluice_proto::v1 as pb;

#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("malformed {extraction_type} page: {source}")]
    Malformed {
        extraction_type: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("unknown extraction type {0:?}")]
    UnknownType(String),
}

/// Rows of one raw page, by table.
#[derive(Debug, Default)]
pub struct Rows {
    pub projects: Vec<pb::ProjectRow>,
    pub work_item_types: Vec<pb::WorkItemTypeRow>,
    pub project_work_item_types: Vec<pb::ProjectWorkItemTypeRow>,
    pub statuses: Vec<pb::StatusRow>,
    pub project_statuses: Vec<pb::ProjectStatusRow>,
    pub custom_fields: Vec<pb::CustomFieldRow>,
    pub work_items: Vec<pb::WorkItemRow>,
    pub changelogs: Vec<pb::WorkItemChangelogRow>,
    pub dev_status: Vec<pb::WorkItemDevStatusRow>,
    pub key_listing: Option<pb::IssueKeyListing>,
    pub repositories: Vec<pb::RepositoryRow>,
    pub pull_requests: Vec<pb::PullRequestRow>,
    pub pr_commits: Vec<pb::PrCommitRow>,
    pub pr_reviews: Vec<pb::PrReviewRow>,
    pub pr_comments: Vec<pb::PrCommentRow>,
    pub pr_links: Vec<pb::PrLinkRow>,
    /// Records of the page that could not be transformed: (position in the page's list,
    /// reason). They are set aside one by one; the rest of the page lands.
    pub quarantined: Vec<(usize, String)>,
}

impl Rows {
    /// The load message for these rows of raw page `raw_id`.
    pub fn into_batch(
        self,
        run: pb::RunContext,
        raw_id: i64,
        extraction_type: &str,
        step: i32,
    ) -> pb::TransformedBatch {
        pb::TransformedBatch {
            run: Some(run),
            raw_id,
            extraction_type: extraction_type.to_string(),
            step,
            grouped_raw_ids: Vec::new(),
            transformed_by: String::new(),
            projects: self.projects,
            work_item_types: self.work_item_types,
            project_work_item_types: self.project_work_item_types,
            statuses: self.statuses,
            project_statuses: self.project_statuses,
            custom_fields: self.custom_fields,
            work_items: self.work_items,
            changelogs: self.changelogs,
            dev_status: self.dev_status,
            key_listing: self.key_listing,
            repositories: self.repositories,
            pull_requests: self.pull_requests,
            pr_commits: self.pr_commits,
            pr_reviews: self.pr_reviews,
            pr_comments: self.pr_comments,
            pr_links: self.pr_links,
        }
    }

    /// Adds another page's rows (pages grouped in one message).
    pub fn extend(&mut self, other: Rows) {
        self.projects.extend(other.projects);
        self.work_item_types.extend(other.work_item_types);
        self.project_work_item_types
            .extend(other.project_work_item_types);
        self.statuses.extend(other.statuses);
        self.project_statuses.extend(other.project_statuses);
        self.custom_fields.extend(other.custom_fields);
        self.work_items.extend(other.work_items);
        self.changelogs.extend(other.changelogs);
        self.dev_status.extend(other.dev_status);
        if other.key_listing.is_some() {
            self.key_listing = other.key_listing;
        }
        self.repositories.extend(other.repositories);
        self.pull_requests.extend(other.pull_requests);
        self.pr_commits.extend(other.pr_commits);
        self.pr_reviews.extend(other.pr_reviews);
        self.pr_comments.extend(other.pr_comments);
        self.pr_links.extend(other.pr_links);
    }

    pub fn count(&self) -> usize {
        self.projects.len()
            + self.work_item_types.len()
            + self.project_work_item_types.len()
            + self.statuses.len()
            + self.project_statuses.len()
            + self.custom_fields.len()
            + self.work_items.len()
            + self.changelogs.len()
            + self.dev_status.len()
            + self.repositories.len()
            + self.pull_requests.len()
            + self.pr_commits.len()
            + self.pr_reviews.len()
            + self.pr_comments.len()
            + self
                .key_listing
                .as_ref()
                .map_or(0, |l| l.external_ids.len())
    }
}

/// Borrowed where the JSON has no escapes, owned otherwise.
pub(crate) type Text<'a> = Cow<'a, str>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueType<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    description: Option<Text<'a>>,
    #[serde(default)]
    subtask: bool,
    #[serde(default)]
    hierarchy_level: Option<i32>,
    #[serde(default, borrow)]
    icon_url: Option<Text<'a>>,
    #[serde(default, borrow)]
    scope: Option<Scope<'a>>,
}

#[derive(Deserialize)]
struct Scope<'a> {
    #[serde(default, borrow)]
    project: Option<IdOnly<'a>>,
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectPage<'a> {
    #[serde(borrow)]
    values: Vec<Project<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Project<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    project_type_key: Option<Text<'a>>,
    #[serde(default, borrow)]
    style: Option<Text<'a>>,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    simplified: bool,
    #[serde(default, borrow)]
    description: Option<Text<'a>>,
    #[serde(default, borrow)]
    lead: Option<User<'a>>,
    #[serde(default, borrow)]
    project_category: Option<Category<'a>>,
    #[serde(default, rename = "self", borrow)]
    self_url: Option<Text<'a>>,
    #[serde(default, borrow)]
    issue_types: Vec<IssueType<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User<'a> {
    #[serde(default, borrow)]
    account_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    display_name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Category<'a> {
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    description: Option<Text<'a>>,
    #[serde(default, borrow)]
    icon_url: Option<Text<'a>>,
    #[serde(default, borrow)]
    status_category: Option<StatusCategory<'a>>,
    #[serde(default, borrow)]
    scope: Option<Scope<'a>>,
}

#[derive(Deserialize)]
struct StatusCategory<'a> {
    #[serde(default, borrow)]
    key: Option<Text<'a>>,
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct ProjectIssueTypeStatuses<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    statuses: Vec<StatusRef<'a>>,
}

#[derive(Deserialize)]
struct StatusRef<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
}

pub(crate) fn text(value: Option<Text<'_>>) -> String {
    value.map(Cow::into_owned).unwrap_or_default()
}

fn scope_project(scope: Option<Scope<'_>>) -> String {
    scope
        .and_then(|s| s.project)
        .map(|p| p.id.into_owned())
        .unwrap_or_default()
}

fn wit_row(t: IssueType<'_>) -> pb::WorkItemTypeRow {
    pb::WorkItemTypeRow {
        external_id: t.id.into_owned(),
        name: t.name.into_owned(),
        description: text(t.description),
        subtask: t.subtask,
        hierarchy_level: t.hierarchy_level.unwrap_or(if t.subtask { -1 } else { 0 }),
        icon_url: text(t.icon_url),
        scope_project_id: scope_project(t.scope),
    }
}

fn parse<'a, T: Deserialize<'a>>(
    extraction_type: &str,
    body: &'a [u8],
) -> Result<T, TransformError> {
    serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
        extraction_type: extraction_type.to_string(),
        source,
    })
}

/// Transforms one raw page. `context` is the page's `request_context`.
pub fn transform(
    extraction_type: &str,
    body: &[u8],
    context: &serde_json::Value,
) -> Result<Rows, TransformError> {
    let mut rows = Rows::default();
    match extraction_type {
        "jira.issue_types" => {
            let types: Vec<IssueType> = parse(extraction_type, body)?;
            rows.work_item_types = types.into_iter().map(wit_row).collect();
        }
        "jira.projects" => {
            let page: ProjectPage = parse(extraction_type, body)?;
            for project in page.values {
                let project_id = project.id.clone().into_owned();
                for issue_type in project.issue_types {
                    rows.project_work_item_types
                        .push(pb::ProjectWorkItemTypeRow {
                            project_external_id: project_id.clone(),
                            work_item_type_external_id: issue_type.id.clone().into_owned(),
                        });
                    rows.work_item_types.push(wit_row(issue_type));
                }
                let (lead_account_id, lead_display_name) = match project.lead {
                    Some(lead) => (text(lead.account_id), text(lead.display_name)),
                    None => (String::new(), String::new()),
                };
                rows.projects.push(pb::ProjectRow {
                    external_id: project_id,
                    key: project.key.into_owned(),
                    name: project.name.into_owned(),
                    project_type: text(project.project_type_key),
                    style: text(project.style),
                    is_private: project.is_private,
                    simplified: project.simplified,
                    description: text(project.description),
                    lead_account_id,
                    lead_display_name,
                    category_name: text(project.project_category.and_then(|c| c.name)),
                    self_url: text(project.self_url),
                });
            }
        }
        "jira.statuses" => {
            let statuses: Vec<Status> = parse(extraction_type, body)?;
            rows.statuses = statuses
                .into_iter()
                .map(|s| {
                    let (category_key, category_name) = match s.status_category {
                        Some(c) => (text(c.key), text(c.name)),
                        None => (String::new(), String::new()),
                    };
                    pb::StatusRow {
                        external_id: s.id.into_owned(),
                        name: s.name.into_owned(),
                        description: text(s.description),
                        category_key,
                        category_name,
                        icon_url: text(s.icon_url),
                        scope_project_id: scope_project(s.scope),
                    }
                })
                .collect();
        }
        "jira.project_statuses" => {
            let project_id = context
                .get("project_id")
                .and_then(|v| v.as_str())
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    TransformError::Invalid(
                        "project statuses page without project_id in its request context".into(),
                    )
                })?;
            let types: Vec<ProjectIssueTypeStatuses> = parse(extraction_type, body)?;
            for issue_type in types {
                rows.project_work_item_types
                    .push(pb::ProjectWorkItemTypeRow {
                        project_external_id: project_id.to_string(),
                        work_item_type_external_id: issue_type.id.clone().into_owned(),
                    });
                for status in issue_type.statuses {
                    rows.project_statuses.push(pb::ProjectStatusRow {
                        project_external_id: project_id.to_string(),
                        work_item_type_external_id: issue_type.id.clone().into_owned(),
                        status_external_id: status.id.into_owned(),
                        status_name: text(status.name),
                    });
                }
            }
        }
        other => return Err(TransformError::UnknownType(other.to_string())),
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PROJECT_SEARCH: &[u8] =
        include_bytes!("../../../simulator/fixtures/jira/project-search.json");
    const STATUS: &[u8] = include_bytes!("../../../simulator/fixtures/jira/status.json");
    const PROJECT_STATUSES: &[u8] =
        include_bytes!("../../../simulator/fixtures/jira/project-statuses.json");
    const AIRBYTE_PROJECTS: &[u8] =
        include_bytes!("../../../simulator/fixtures/jira/project-search.airbyte.json");

    #[test]
    fn recorded_project_page_becomes_project_rows() {
        let rows = transform("jira.projects", PROJECT_SEARCH, &json!({})).unwrap();
        assert_eq!(rows.projects.len(), 2);
        let ex = &rows.projects[0];
        assert_eq!(
            (ex.external_id.as_str(), ex.key.as_str(), ex.name.as_str()),
            ("10000", "EX", "Example")
        );
        assert_eq!(ex.category_name, "FIRST");
        assert_eq!(ex.style, "classic");
        let airbyte = transform("jira.projects", AIRBYTE_PROJECTS, &json!({})).unwrap();
        assert!(
            airbyte
                .projects
                .iter()
                .any(|p| p.project_type == "software")
        );
    }

    #[test]
    fn recorded_statuses_keep_their_category() {
        let rows = transform("jira.statuses", STATUS, &json!({})).unwrap();
        assert_eq!(rows.statuses.len(), 2);
        assert_eq!(rows.statuses[0].category_key, "in-flight");
        assert_eq!(rows.statuses[1].name, "Closed");
        // The recorded "Closed" category has no name: kept empty, not an error.
        assert_eq!(rows.statuses[1].category_name, "");
    }

    #[test]
    fn project_statuses_need_their_project() {
        let rows = transform(
            "jira.project_statuses",
            PROJECT_STATUSES,
            &json!({"project_id": "10000"}),
        )
        .unwrap();
        assert_eq!(rows.project_statuses.len(), 2);
        assert_eq!(rows.project_work_item_types.len(), 1);
        assert!(matches!(
            transform("jira.project_statuses", PROJECT_STATUSES, &json!({})),
            Err(TransformError::Invalid(_))
        ));
    }

    #[test]
    fn malformed_pages_are_errors_naming_the_problem() {
        let err = transform(
            "jira.statuses",
            br#"[{"id":"1","name":"Open"},{"id":"#,
            &json!({}),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("malformed jira.statuses page: EOF"),
            "{err}"
        );
        let err = transform("jira.statuses", br#"[{"name":"no id"}]"#, &json!({})).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        assert!(matches!(
            transform("jira.bogus", b"[]", &json!({})),
            Err(TransformError::UnknownType(_))
        ));
    }
}
