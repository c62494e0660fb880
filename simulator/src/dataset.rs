//! The data the simulator serves: recorded Jira payloads or generated ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::issues::{self, IssueSpec};

const PROJECT_SEARCH: &str = include_str!("../fixtures/jira/project-search.json");
const STATUS: &str = include_str!("../fixtures/jira/status.json");
const STATUS_GO_JIRA: &str = include_str!("../fixtures/jira/status.go-jira.json");
const PROJECT_STATUSES: &str = include_str!("../fixtures/jira/project-statuses.json");
const SEARCH_JQL: &str = include_str!("../fixtures/jira/search-jql.json");
const SEARCH_AIRBYTE: &str = include_str!("../fixtures/jira/search.airbyte-issues.json");
const ISSUE: &str = include_str!("../fixtures/jira/issue.json");
const ISSUE_CHANGELOG: &str = include_str!("../fixtures/jira/issue-changelog.json");
const FIELD: &str = include_str!("../fixtures/jira/field.json");
const FIELD_JIRA_CLI: &str = include_str!("../fixtures/jira/field.jira-cli.json");

/// Host used in the `self` links of generated objects (recorded ones keep their own).
pub(crate) const GENERATED_SITE: &str = "https://sluice-sim.atlassian.net";

/// Projects, issue types, statuses, fields and issues of one simulated Jira site.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub(crate) projects: Vec<Value>,
    pub(crate) issue_types: Vec<Value>,
    pub(crate) statuses: Vec<Value>,
    /// Keyed by project key; shared because generated sites give every project the same list.
    pub(crate) project_statuses: BTreeMap<String, Arc<Vec<Value>>>,
    /// Recorded /field entries (fixture datasets only).
    pub(crate) recorded_fields: Arc<Vec<Value>>,
    /// Recorded issue objects, served verbatim.
    pub(crate) fixture_issues: Arc<Vec<Value>>,
    /// Recorded changelog histories, served as the first recorded issue's changelog.
    pub(crate) fixture_changelog: Arc<Vec<Value>>,
    /// Generated issues, when [`Dataset::with_issues`] was called.
    pub(crate) issue_spec: Option<IssueSpec>,
}

impl Dataset {
    /// Recorded payloads: projects = the `values` of fixtures/jira/project-search.json (EX, ABC);
    /// statuses = fixtures/jira/status.json plus fixtures/jira/status.go-jira.json, de-duplicated
    /// by "id" (status.json wins); project statuses = fixtures/jira/project-statuses.json for every
    /// project; issue types = the issue types named in project-statuses.json, as full issue-type
    /// objects built from the id/name/subtask there.
    ///
    /// Issues: the issues of search-jql.json (ED-1, project EX) and search.airbyte-issues.json
    /// (TESTKEY13-1, a project only its issue names), verbatim. issue.json is the same issue as
    /// ED-1 (id 10002), so it is not added again. The histories of issue-changelog.json (recorded
    /// for TT-1, which no fixture contains) are served as ED-1's whole changelog. Fields:
    /// field.json merged with field.jira-cli.json, de-duplicated by id.
    pub fn fixtures() -> Dataset {
        let search = parse_fixture("project-search.json", PROJECT_SEARCH);
        let projects = array_of(&search["values"]);

        let mut statuses = array_of(&parse_fixture("status.json", STATUS));
        let mut seen: BTreeSet<String> = statuses.iter().map(id_of).collect();
        for status in array_of(&parse_fixture("status.go-jira.json", STATUS_GO_JIRA)) {
            if seen.insert(id_of(&status)) {
                statuses.push(status);
            }
        }

        let per_project = array_of(&parse_fixture("project-statuses.json", PROJECT_STATUSES));
        let mut issue_types = Vec::new();
        let mut type_ids = BTreeSet::new();
        for entry in &per_project {
            if type_ids.insert(id_of(entry)) {
                issue_types.push(issue_type_from_entry(entry));
            }
        }

        let per_project = Arc::new(per_project);
        let project_statuses = projects
            .iter()
            .map(|p| (key_of(p), Arc::clone(&per_project)))
            .collect();
        let mut fixture_issues = array_of(&parse_fixture("search-jql.json", SEARCH_JQL)["issues"]);
        fixture_issues.extend(array_of(
            &parse_fixture("search.airbyte-issues.json", SEARCH_AIRBYTE)["issues"],
        ));
        let single = parse_fixture("issue.json", ISSUE);
        if !fixture_issues.iter().any(|i| i["id"] == single["id"]) {
            fixture_issues.push(single);
        }
        let changelog = array_of(&parse_fixture("issue-changelog.json", ISSUE_CHANGELOG)["values"]);

        let mut fields = array_of(&parse_fixture("field.json", FIELD));
        let mut field_ids: BTreeSet<String> = fields.iter().map(id_of).collect();
        for field in array_of(&parse_fixture("field.jira-cli.json", FIELD_JIRA_CLI)) {
            if field_ids.insert(id_of(&field)) {
                fields.push(field);
            }
        }
        Dataset {
            projects,
            issue_types,
            statuses,
            project_statuses,
            recorded_fields: Arc::new(fields),
            fixture_issues: Arc::new(fixture_issues),
            fixture_changelog: Arc::new(changelog),
            issue_spec: None,
        }
    }

    /// Deterministic generated data: `projects` projects with keys "P0001".., ids "20001"..;
    /// `issue_types` types ("10001".., the first named "Epic" with hierarchyLevel 1, the last a
    /// subtask type "Sub-task" with hierarchyLevel -1 when there are at least 3, the others "Type N");
    /// `statuses` statuses with ids "30001".. whose categories cycle new/indeterminate/done.
    /// Every project uses every issue type, and every issue type every status.
    pub fn generated(projects: usize, issue_types: usize, statuses: usize) -> Dataset {
        let project_list: Vec<Value> = (1..=projects).map(generated_project).collect();
        let type_list: Vec<Value> = (1..=issue_types)
            .map(|n| generated_issue_type(n, issue_types))
            .collect();
        let status_list: Vec<Value> = (1..=statuses).map(generated_status).collect();

        let short_statuses: Vec<Value> = status_list.iter().map(without_category).collect();
        let entries: Vec<Value> = type_list
            .iter()
            .map(|t| {
                json!({
                    "self": t["self"],
                    "id": t["id"],
                    "name": t["name"],
                    "subtask": t["subtask"],
                    "statuses": short_statuses,
                })
            })
            .collect();
        let entries = Arc::new(entries);
        let project_statuses = project_list
            .iter()
            .map(|p| (key_of(p), Arc::clone(&entries)))
            .collect();
        Dataset {
            projects: project_list,
            issue_types: type_list,
            statuses: status_list,
            project_statuses,
            recorded_fields: Arc::default(),
            fixture_issues: Arc::default(),
            fixture_changelog: Arc::default(),
            issue_spec: None,
        }
    }

    /// Adds generated issues to every project of this dataset (fixture or generated projects).
    /// Keys are `<PROJECTKEY>-<n>` (numbered after any recorded issue using that prefix), ids
    /// numeric from 100001, unique across projects. Calling it again replaces the spec.
    pub fn with_issues(mut self, spec: IssueSpec) -> Dataset {
        self.issue_spec = Some(spec);
        self
    }

    /// Total issues served (fixture issues included, deleted excluded: a dataset has none deleted).
    pub fn issue_count(&self) -> usize {
        let generated = self
            .issue_spec
            .as_ref()
            .map_or(0, |s| s.issues_per_project * self.projects.len());
        let fixtures: BTreeSet<String> = self.fixture_issues.iter().map(id_of).collect();
        fixtures.len() + generated
    }

    /// Custom field ids the dataset defines, e.g. "customfield_10001", with their schema (the
    /// same objects /field serves): recorded custom fields first, then generated ones.
    /// The custom fields issues carry values of (generated or recorded); Jira Cloud's
    /// Development field, which /field lists too, is not one of them.
    pub fn custom_fields(&self) -> Vec<Value> {
        issues::field_list(self)
            .into_iter()
            .filter(|f| f["custom"] == true && f["id"] != issues::DEVELOPMENT_FIELD)
            .collect()
    }

    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    pub fn issue_type_count(&self) -> usize {
        self.issue_types.len()
    }

    pub fn status_count(&self) -> usize {
        self.statuses.len()
    }

    /// Number of (project, issue type, status) triples served by project/{key}/statuses.
    pub fn project_status_count(&self) -> usize {
        self.entries_per_project()
            .flat_map(|entries| entries.iter())
            .map(|entry| entry["statuses"].as_array().map_or(0, Vec::len))
            .sum()
    }

    /// Number of (project, issue type) pairs.
    pub fn project_issue_type_count(&self) -> usize {
        self.entries_per_project()
            .map(|entries| entries.len())
            .sum()
    }

    /// Project objects in the order project/search serves them.
    pub fn projects(&self) -> &[Value] {
        &self.projects
    }

    pub fn issue_types(&self) -> &[Value] {
        &self.issue_types
    }

    pub fn statuses(&self) -> &[Value] {
        &self.statuses
    }

    /// The project/{key}/statuses answer for a project key, if the project exists.
    pub fn project_statuses(&self, project_key: &str) -> Option<&[Value]> {
        self.project_statuses
            .get(project_key)
            .map(|entries| entries.as_slice())
    }

    fn entries_per_project(&self) -> impl Iterator<Item = &Arc<Vec<Value>>> {
        self.projects
            .iter()
            .filter_map(|p| self.project_statuses.get(&key_of(p)))
    }
}

fn parse_fixture(name: &str, text: &str) -> Value {
    // the fixtures are compiled in, so a parse failure is a build defect, not a runtime condition
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("embedded fixture {name} is not valid json: {e}"))
}

fn array_of(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

pub(crate) fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

pub(crate) fn key_of(value: &Value) -> String {
    value["key"].as_str().unwrap_or_default().to_owned()
}

fn without_category(status: &Value) -> Value {
    let mut status = status.clone();
    if let Some(map) = status.as_object_mut() {
        map.remove("statusCategory");
    }
    status
}

/// Jira's issue-type object for one entry of a project/{key}/statuses answer.
fn issue_type_from_entry(entry: &Value) -> Value {
    let subtask = entry["subtask"].as_bool().unwrap_or(false);
    let id = id_of(entry);
    let self_url = entry["self"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{GENERATED_SITE}/rest/api/3/issuetype/{id}"));
    json!({
        "self": self_url,
        "id": id,
        "name": entry["name"],
        "description": "",
        "iconUrl": icon_url(&self_url, subtask),
        "subtask": subtask,
        "hierarchyLevel": if subtask { -1 } else { 0 },
        "avatarId": avatar_id(subtask),
    })
}

fn avatar_id(subtask: bool) -> u64 {
    if subtask { 10316 } else { 10318 }
}

/// Icon on the same site as the object itself, in Jira's viewavatar form.
fn icon_url(self_url: &str, subtask: bool) -> String {
    let site = self_url.split("/rest/").next().unwrap_or(GENERATED_SITE);
    format!(
        "{site}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{}?size=medium",
        avatar_id(subtask)
    )
}

fn generated_project(n: usize) -> Value {
    let id = format!("{}", 20000 + n);
    let key = format!("P{n:04}");
    let avatar = |size: &str| format!("{GENERATED_SITE}/secure/projectavatar?size={size}&pid={id}");
    let mut avatars = Map::new();
    for (dim, size) in [
        ("16x16", "xsmall"),
        ("24x24", "small"),
        ("32x32", "medium"),
        ("48x48", "large"),
    ] {
        avatars.insert(dim.to_owned(), Value::String(avatar(size)));
    }
    json!({
        "avatarUrls": avatars,
        "id": id,
        "key": key,
        "name": format!("Project {n}"),
        "projectTypeKey": "software",
        "self": format!("{GENERATED_SITE}/rest/api/3/project/{id}"),
        "simplified": false,
        "style": "classic",
        "isPrivate": false,
        "properties": {},
    })
}

fn generated_issue_type(n: usize, total: usize) -> Value {
    let id = format!("{}", 10000 + n);
    let subtask = total >= 3 && n == total;
    let (name, level) = match n {
        1 => ("Epic".to_owned(), 1),
        _ if subtask => ("Sub-task".to_owned(), -1),
        _ => (format!("Type {n}"), 0),
    };
    let self_url = format!("{GENERATED_SITE}/rest/api/3/issuetype/{id}");
    json!({
        "self": self_url,
        "id": id,
        "name": name,
        "description": format!("Generated issue type {n}."),
        "iconUrl": icon_url(&self_url, subtask),
        "subtask": subtask,
        "hierarchyLevel": level,
        "avatarId": avatar_id(subtask),
    })
}

fn generated_status(n: usize) -> Value {
    // Jira's three fixed categories (ids 2, 4, 3 are the real ones)
    let category = match (n - 1) % 3 {
        0 => (2, "new", "blue-gray", "To Do"),
        1 => (4, "indeterminate", "yellow", "In Progress"),
        _ => (3, "done", "green", "Done"),
    };
    let (cat_id, cat_key, color, cat_name) = category;
    let id = format!("{}", 30000 + n);
    json!({
        "self": format!("{GENERATED_SITE}/rest/api/3/status/{id}"),
        "description": format!("Generated status {n}."),
        "iconUrl": format!("{GENERATED_SITE}/images/icons/statuses/generic.png"),
        "name": format!("Status {n}"),
        "untranslatedName": format!("Status {n}"),
        "id": id,
        "statusCategory": {
            "self": format!("{GENERATED_SITE}/rest/api/3/statuscategory/{cat_id}"),
            "id": cat_id,
            "key": cat_key,
            "colorName": color,
            "name": cat_name,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_counts() {
        let d = Dataset::fixtures();
        assert_eq!(d.project_count(), 2);
        assert_eq!(d.issue_type_count(), 1);
        // 2 from status.json + 37 from go-jira, "10000" in both
        assert_eq!(d.status_count(), 38);
        assert_eq!(d.statuses[0]["name"], "In Progress");
        assert_eq!(d.project_issue_type_count(), 2);
        assert_eq!(d.project_status_count(), 4);
        assert_eq!(d.issue_types[0]["name"], "Task");
        assert_eq!(d.issue_types[0]["hierarchyLevel"], 0);
    }

    #[test]
    fn generated_shapes() {
        let d = Dataset::generated(3, 4, 5);
        assert_eq!(d.projects[0]["key"], "P0001");
        assert_eq!(d.projects[2]["id"], "20003");
        assert_eq!(d.issue_types[0]["name"], "Epic");
        assert_eq!(d.issue_types[0]["hierarchyLevel"], 1);
        assert_eq!(d.issue_types[3]["subtask"], true);
        assert_eq!(d.issue_types[3]["hierarchyLevel"], -1);
        assert_eq!(d.statuses[4]["id"], "30005");
        assert_eq!(d.statuses[1]["statusCategory"]["key"], "indeterminate");
        assert_eq!(d.project_status_count(), 3 * 4 * 5);
        assert_eq!(d.project_issue_type_count(), 12);
        let two = Dataset::generated(2, 2, 1);
        assert!(two.issue_types.iter().all(|t| t["subtask"] == false));
    }
}
