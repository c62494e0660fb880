//! Everything generated issues draw from, built once per simulator: users, priorities,
//! resolutions, teams, custom fields, text pools and, per project, its issue types with their
//! workflow, components, versions and sprints. Issues refer to these objects instead of
//! rebuilding them.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::IssueSpec;
use super::catalog::{components, priorities, resolutions, sprints, teams, versions};
use super::custom::{CustomField, definitions};
pub(crate) use super::people::User;
use super::people::users;
use super::text;
use crate::dataset::{Dataset, GENERATED_SITE, id_of, key_of};
use crate::rng::Rng;
use crate::time::utc_ms;

/// Generated history starts here…
pub(crate) fn site_start() -> i64 {
    utc_ms(2021, 1, 4, 9, 0, 0)
}

/// …and nothing generated is later than this (bumps excepted), so runs are reproducible.
pub(crate) fn dataset_end() -> i64 {
    utc_ms(2025, 6, 30, 17, 0, 0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Epic,
    Standard,
    Subtask,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    New,
    InProgress,
    Done,
}

pub(crate) struct StatusCtx {
    pub(crate) value: Value,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) category: Category,
}

pub(crate) struct TypeCtx {
    pub(crate) value: Value,
    pub(crate) kind: TypeKind,
    pub(crate) statuses: Vec<StatusCtx>,
}

impl TypeCtx {
    /// Where new issues of this type start: the first "To Do"-like status.
    pub(crate) fn initial_status(&self) -> usize {
        self.statuses
            .iter()
            .position(|s| s.category == Category::New)
            .unwrap_or(0)
    }
}

pub(crate) struct ProjectCtx {
    pub(crate) index: usize,
    pub(crate) key: String,
    pub(crate) id: String,
    /// The `fields.project` object of its issues.
    pub(crate) reference: Value,
    pub(crate) types: Vec<TypeCtx>,
    pub(crate) epic_types: Vec<usize>,
    pub(crate) standard_types: Vec<usize>,
    pub(crate) subtask_types: Vec<usize>,
    pub(crate) components: Vec<Value>,
    pub(crate) versions: Vec<Value>,
    pub(crate) sprints: Vec<Value>,
    /// Number of the first generated issue (after any recorded issue with the same key prefix).
    pub(crate) first_number: u64,
}

pub(crate) struct Site {
    pub(crate) spec: IssueSpec,
    /// 0 when the dataset has no generated issues.
    pub(crate) per_project: usize,
    /// Human users first, the automation app user last.
    pub(crate) users: Vec<User>,
    pub(crate) priorities: Vec<Value>,
    pub(crate) resolutions: Vec<Value>,
    pub(crate) teams: Vec<Value>,
    pub(crate) custom: Vec<CustomField>,
    pub(crate) projects: Vec<ProjectCtx>,
    /// Issue descriptions and textarea values are drawn from these pools: building ADF per
    /// issue would dominate generation time, and 64 different documents look varied enough.
    pub(crate) descriptions: Vec<Value>,
    pub(crate) textareas: Vec<Value>,
}

const DESCRIPTIONS: u64 = 64;
const TEXTAREAS: u64 = 16;

impl Site {
    /// `taken` maps a key prefix to the highest recorded issue number using it.
    pub(crate) fn new(dataset: &Dataset, taken: &HashMap<String, u64>) -> Site {
        let spec = dataset.issue_spec.clone().unwrap_or_default();
        let per_project = dataset
            .issue_spec
            .as_ref()
            .map_or(0, |s| s.issues_per_project);
        let statuses: HashMap<String, &Value> =
            dataset.statuses.iter().map(|s| (id_of(s), s)).collect();
        let projects = dataset
            .projects
            .iter()
            .enumerate()
            .map(|(index, project)| {
                let key = key_of(project);
                let first_number = taken.get(&key).map_or(1, |n| n + 1);
                project_ctx(dataset, &statuses, index, project, first_number)
            })
            .collect();
        let users = users(spec.seed);
        let humans = &users[..users.len() - 1];
        let descriptions = (0..DESCRIPTIONS)
            .map(|i| text::adf_doc(&mut Rng::new(&[spec.seed, 0xADF, i]), humans))
            .collect();
        let textareas = (0..TEXTAREAS)
            .map(|i| text::adf_short(&mut Rng::new(&[spec.seed, 0xADE, i]), humans))
            .collect();
        Site {
            custom: definitions(dataset.issue_spec.as_ref().map_or(0, |s| s.custom_fields)),
            descriptions,
            textareas,
            users,
            priorities: priorities(),
            resolutions: resolutions(),
            teams: teams(spec.seed),
            projects,
            per_project,
            spec,
        }
    }

    pub(crate) fn generated_count(&self) -> usize {
        self.projects.len() * self.per_project
    }

    pub(crate) fn humans(&self) -> &[User] {
        &self.users[..self.users.len() - 1]
    }

    pub(crate) fn automation(&self) -> &User {
        &self.users[self.users.len() - 1]
    }

    /// (project, issue number) of generated issue `g`.
    pub(crate) fn locate(&self, g: usize) -> (&ProjectCtx, u64) {
        let project = &self.projects[g / self.per_project];
        (
            project,
            project.first_number + (g % self.per_project) as u64,
        )
    }

    pub(crate) fn key(&self, g: usize) -> String {
        let (project, number) = self.locate(g);
        format!("{}-{number}", project.key)
    }
}

/// Ids of generated issues start here, well above the recorded ones.
pub(crate) const GENERATED_ID_BASE: u64 = 100_001;

fn project_ctx(
    dataset: &Dataset,
    statuses: &HashMap<String, &Value>,
    index: usize,
    project: &Value,
    first_number: u64,
) -> ProjectCtx {
    let key = key_of(project);
    let id = id_of(project);
    let mut reference = Map::new();
    for name in [
        "self",
        "id",
        "key",
        "name",
        "projectTypeKey",
        "simplified",
        "avatarUrls",
    ] {
        if let Some(v) = project.get(name) {
            reference.insert(name.to_owned(), v.clone());
        }
    }
    let types = project_types(dataset, statuses, &key);
    let indices = |kind: TypeKind| -> Vec<usize> {
        (0..types.len())
            .filter(|&i| types[i].kind == kind)
            .collect()
    };
    ProjectCtx {
        epic_types: indices(TypeKind::Epic),
        standard_types: indices(TypeKind::Standard),
        subtask_types: indices(TypeKind::Subtask),
        components: components(index),
        versions: versions(index, &id),
        sprints: sprints(index, &key),
        reference: Value::Object(reference),
        types,
        index,
        key,
        id,
        first_number,
    }
}

/// The project's issue types with their workflow statuses, as project/{key}/statuses lists them.
fn project_types(dataset: &Dataset, statuses: &HashMap<String, &Value>, key: &str) -> Vec<TypeCtx> {
    let full_type = |entry: &Value| {
        dataset
            .issue_types
            .iter()
            .find(|t| t["id"] == entry["id"])
            .cloned()
            .unwrap_or_else(|| entry.clone())
    };
    let entries = dataset.project_statuses(key).unwrap_or_default();
    let mut types: Vec<TypeCtx> = entries
        .iter()
        .map(|entry| {
            let listed = entry["statuses"].as_array().cloned().unwrap_or_default();
            let statuses = listed
                .iter()
                .map(|s| status_ctx(statuses.get(&id_of(s)).copied().unwrap_or(s)))
                .collect();
            type_ctx(full_type(entry), statuses)
        })
        .collect();
    if types.is_empty() {
        // no workflow recorded: every issue type with every status
        let all: Vec<Value> = dataset.statuses.clone();
        types = dataset
            .issue_types
            .iter()
            .map(|t| type_ctx(t.clone(), all.iter().map(status_ctx).collect()))
            .collect();
    }
    if types.is_empty() {
        types.push(type_ctx(fallback_task(), Vec::new()));
    }
    for t in &mut types {
        if t.statuses.is_empty() {
            t.statuses.push(status_ctx(&fallback_status()));
        }
    }
    types
}

fn type_ctx(value: Value, statuses: Vec<StatusCtx>) -> TypeCtx {
    let kind = if value["subtask"].as_bool().unwrap_or(false) {
        TypeKind::Subtask
    } else if value["hierarchyLevel"].as_i64() == Some(1) || value["name"] == "Epic" {
        TypeKind::Epic
    } else {
        TypeKind::Standard
    };
    TypeCtx {
        value,
        kind,
        statuses,
    }
}

fn status_ctx(value: &Value) -> StatusCtx {
    // recorded sites use their own category keys ("in-flight", "completed")
    let category = match value["statusCategory"]["key"].as_str() {
        Some("new") => Category::New,
        Some("done" | "completed") => Category::Done,
        _ => Category::InProgress,
    };
    StatusCtx {
        id: id_of(value),
        name: value["name"].as_str().unwrap_or_default().to_owned(),
        value: value.clone(),
        category,
    }
}

fn fallback_task() -> Value {
    json!({
        "self": format!("{GENERATED_SITE}/rest/api/3/issuetype/10002"),
        "id": "10002",
        "description": "A small, distinct piece of work.",
        "iconUrl": format!("{GENERATED_SITE}/images/icons/issuetypes/task.svg"),
        "name": "Task",
        "subtask": false,
        "hierarchyLevel": 0,
    })
}

fn fallback_status() -> Value {
    json!({
        "self": format!("{GENERATED_SITE}/rest/api/3/status/10000"),
        "description": "",
        "iconUrl": format!("{GENERATED_SITE}/"),
        "name": "To Do",
        "id": "10000",
        "statusCategory": {
            "self": format!("{GENERATED_SITE}/rest/api/3/statuscategory/2"),
            "id": 2,
            "key": "new",
            "colorName": "blue-gray",
            "name": "To Do",
        },
    })
}
