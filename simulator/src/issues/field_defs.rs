//! Field metadata: the /field list and the per-issue-type field lists of createmeta.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::custom::{self, CfKind};
use super::site::{ProjectCtx, Site, TypeCtx, TypeKind};
use crate::dataset::{Dataset, GENERATED_SITE};

struct System {
    id: &'static str,
    name: &'static str,
    /// (type, items); None for fields Jira lists without a schema.
    schema: Option<(&'static str, Option<&'static str>)>,
    clauses: &'static [&'static str],
    orderable: bool,
    searchable: bool,
}

const fn sys(
    id: &'static str,
    name: &'static str,
    schema: Option<(&'static str, Option<&'static str>)>,
    clauses: &'static [&'static str],
    orderable: bool,
) -> System {
    System {
        id,
        name,
        schema,
        clauses,
        orderable,
        searchable: true,
    }
}

/// The system fields generated issues carry (plus `issuekey`), as /field describes them.
const SYSTEM: [System; 20] = [
    sys(
        "summary",
        "Summary",
        Some(("string", None)),
        &["summary"],
        true,
    ),
    sys(
        "description",
        "Description",
        Some(("string", None)),
        &["description"],
        true,
    ),
    sys(
        "status",
        "Status",
        Some(("status", None)),
        &["status"],
        false,
    ),
    sys(
        "issuetype",
        "Issue Type",
        Some(("issuetype", None)),
        &["issuetype", "type"],
        true,
    ),
    sys(
        "priority",
        "Priority",
        Some(("priority", None)),
        &["priority"],
        true,
    ),
    sys(
        "assignee",
        "Assignee",
        Some(("user", None)),
        &["assignee"],
        true,
    ),
    sys(
        "reporter",
        "Reporter",
        Some(("user", None)),
        &["reporter"],
        true,
    ),
    sys(
        "creator",
        "Creator",
        Some(("user", None)),
        &["creator"],
        false,
    ),
    sys(
        "created",
        "Created",
        Some(("datetime", None)),
        &["created", "createdDate"],
        false,
    ),
    sys(
        "updated",
        "Updated",
        Some(("datetime", None)),
        &["updated", "updatedDate"],
        false,
    ),
    sys(
        "resolutiondate",
        "Resolved",
        Some(("datetime", None)),
        &["resolutiondate", "resolved"],
        false,
    ),
    sys(
        "resolution",
        "Resolution",
        Some(("resolution", None)),
        &["resolution"],
        true,
    ),
    sys(
        "labels",
        "Labels",
        Some(("array", Some("string"))),
        &["labels"],
        true,
    ),
    sys(
        "components",
        "Components",
        Some(("array", Some("component"))),
        &["component"],
        true,
    ),
    sys(
        "fixVersions",
        "Fix versions",
        Some(("array", Some("version"))),
        &["fixVersion"],
        true,
    ),
    sys("parent", "Parent", None, &["parent"], true),
    sys(
        "project",
        "Project",
        Some(("project", None)),
        &["project"],
        false,
    ),
    sys(
        "duedate",
        "Due date",
        Some(("date", None)),
        &["due", "duedate"],
        true,
    ),
    sys(
        "statuscategorychangedate",
        "Status Category Changed",
        Some(("datetime", None)),
        &["statusCategoryChangedDate"],
        false,
    ),
    System {
        id: "issuekey",
        name: "Key",
        schema: None,
        clauses: &["id", "issue", "issuekey", "key"],
        orderable: false,
        searchable: false,
    },
];

fn system_definition(field: &System) -> Value {
    let mut out = json!({
        "id": field.id,
        "key": field.id,
        "name": field.name,
        "custom": false,
        "orderable": field.orderable,
        "navigable": true,
        "searchable": field.searchable,
        "clauseNames": field.clauses,
    });
    if let (Some((kind, items)), Some(map)) = (field.schema, out.as_object_mut()) {
        let mut schema = Map::new();
        schema.insert("type".into(), kind.into());
        if let Some(items) = items {
            schema.insert("items".into(), items.into());
        }
        schema.insert("system".into(), field.id.into());
        map.insert("schema".into(), Value::Object(schema));
    }
    out
}

/// Jira Cloud's Development field: the dev-status summary of each issue, in search results.
/// Its id differs between sites (`customfield_10000` on many); clients find it by its
/// schema's `custom` type.
pub(crate) const DEVELOPMENT_FIELD: &str = "customfield_10000";
pub(crate) const DEVELOPMENT_FIELD_TYPE: &str =
    "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf";

fn development_definition() -> Value {
    json!({
        "id": DEVELOPMENT_FIELD,
        "key": DEVELOPMENT_FIELD,
        "name": "Development",
        "untranslatedName": "Development",
        "custom": true,
        "orderable": true,
        "navigable": true,
        "searchable": true,
        "clauseNames": ["cf[10000]", "development"],
        "schema": {"type": "any", "custom": DEVELOPMENT_FIELD_TYPE, "customId": 10000},
    })
}

/// GET /field: recorded fields first (fixture datasets), then the system fields generated
/// issues carry, then the generated custom fields; de-duplicated by id, first one wins.
pub(crate) fn field_list(dataset: &Dataset) -> Vec<Value> {
    let mut out: Vec<Value> = dataset.recorded_fields.to_vec();
    let recorded_only = !dataset.recorded_fields.is_empty() && dataset.issue_spec.is_none();
    if !recorded_only {
        out.extend(SYSTEM.iter().map(system_definition));
    }
    let count = dataset.issue_spec.as_ref().map_or(0, |s| s.custom_fields);
    out.extend(custom::definitions(count).into_iter().map(|f| f.definition));
    if dataset.issue_spec.is_some() {
        out.push(development_definition());
    }
    let mut seen = BTreeSet::new();
    out.retain(|f| seen.insert(f["id"].as_str().unwrap_or_default().to_owned()));
    out
}

fn schema_of(definition: &Value) -> Value {
    definition.get("schema").cloned().unwrap_or(Value::Null)
}

fn meta(definition: &Value, required: bool, operations: &[&str]) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("required".into(), required.into());
    if let Some(schema) = definition.get("schema") {
        map.insert("schema".into(), schema.clone());
    }
    map.insert("name".into(), definition["name"].clone());
    map.insert("key".into(), definition["id"].clone());
    map.insert("hasDefaultValue".into(), false.into());
    map.insert("operations".into(), operations.into());
    map
}

/// Create-screen fields of one issue type, as (field id, createmeta object without `fieldId`).
pub(crate) fn createmeta_fields(
    site: &Site,
    project: &ProjectCtx,
    ty: &TypeCtx,
) -> Vec<(String, Value)> {
    let definition = |id: &str| {
        SYSTEM
            .iter()
            .find(|f| f.id == id)
            .map(system_definition)
            .unwrap_or(Value::Null)
    };
    let mut out = Vec::new();
    let mut push =
        |id: &str, map: Map<String, Value>| out.push((id.to_owned(), Value::Object(map)));

    push("summary", meta(&definition("summary"), true, &["set"]));
    let mut issuetype = meta(&definition("issuetype"), true, &[]);
    issuetype.insert("allowedValues".into(), json!([ty.value]));
    push("issuetype", issuetype);
    let mut project_meta = meta(&definition("project"), true, &["set"]);
    project_meta.insert("allowedValues".into(), json!([project.reference]));
    push("project", project_meta);
    if ty.kind != TypeKind::Epic {
        let mut parent = meta(
            &definition("parent"),
            ty.kind == TypeKind::Subtask,
            &["set"],
        );
        parent.insert(
            "schema".into(),
            json!({"type": "issuelink", "system": "parent"}),
        );
        push("parent", parent);
    }
    push(
        "description",
        meta(&definition("description"), false, &["set"]),
    );
    let user_search = format!("{GENERATED_SITE}/rest/api/3/user/search?query=");
    let mut reporter = meta(&definition("reporter"), true, &["set"]);
    reporter.insert("hasDefaultValue".into(), true.into());
    reporter.insert("autoCompleteUrl".into(), user_search.clone().into());
    push("reporter", reporter);
    let mut assignee = meta(&definition("assignee"), false, &["set"]);
    assignee.insert("autoCompleteUrl".into(), user_search.into());
    push("assignee", assignee);
    let mut priority = meta(&definition("priority"), false, &["set"]);
    priority.insert("hasDefaultValue".into(), true.into());
    priority.insert("allowedValues".into(), site.priorities.clone().into());
    if let Some(medium) = site.priorities.get(2) {
        priority.insert("defaultValue".into(), medium.clone());
    }
    push("priority", priority);
    let mut labels = meta(&definition("labels"), false, &["add", "set", "remove"]);
    labels.insert(
        "autoCompleteUrl".into(),
        format!("{GENERATED_SITE}/rest/api/1.0/labels/suggest?query=").into(),
    );
    push("labels", labels);
    let mut components = meta(&definition("components"), false, &["add", "set", "remove"]);
    components.insert("allowedValues".into(), project.components.clone().into());
    push("components", components);
    let mut versions = meta(&definition("fixVersions"), false, &["set", "add", "remove"]);
    versions.insert("allowedValues".into(), project.versions.clone().into());
    push("fixVersions", versions);
    push("duedate", meta(&definition("duedate"), false, &["set"]));

    for field in &site.custom {
        // the legacy epic link makes no sense on epics themselves
        if field.kind == CfKind::EpicLink && ty.kind == TypeKind::Epic {
            continue;
        }
        let ops: &[&str] = if schema_of(&field.definition)["type"] == "array" {
            &["add", "set", "remove"]
        } else {
            &["set"]
        };
        let mut map = meta(&field.definition, false, ops);
        if let Some(allowed) = custom::allowed_values(field, project) {
            map.insert("allowedValues".into(), allowed);
        }
        push(&field.id, map);
    }
    out
}
