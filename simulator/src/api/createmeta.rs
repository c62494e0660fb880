//! Create metadata: the paged GET /issue/createmeta/{project}/issuetypes[/{id}] and the
//! deprecated GET /issue/createmeta?projectKeys=..&expand=projects.issuetypes.fields.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Params, offset_page, param, project_not_found};
use crate::issues::{ProjectCtx, createmeta_fields};
use crate::respond::{jira_error, no_resource, ok};
use crate::state::Shared;

const PAGE: usize = 50;
const CAP: usize = 200;

fn project<'a>(sim: &'a Shared, id_or_key: &str) -> Option<&'a ProjectCtx> {
    let key = sim.project_keys.get(id_or_key)?;
    sim.issues.site.projects.iter().find(|p| &p.key == key)
}

fn paged(items: Vec<Value>, name: &str, start: usize, max: usize) -> Value {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let mut body = Map::new();
    body.insert(name.to_owned(), page.into());
    body.insert("maxResults".into(), max.into());
    body.insert("startAt".into(), start.into());
    body.insert("total".into(), total.into());
    Value::Object(body)
}

pub(crate) async fn issue_types(
    State(sim): State<Arc<Shared>>,
    Path(id_or_key): Path<String>,
    Query(params): Query<Params>,
    method: Method,
    uri: Uri,
) -> Response {
    if !sim.new_createmeta.load(Ordering::Relaxed) {
        return no_resource(&method, uri.path());
    }
    let (start, max) = match offset_page(&params, PAGE, CAP) {
        Ok(page) => page,
        Err(rejection) => return rejection.response(),
    };
    let Some(project) = project(&sim, &id_or_key) else {
        return project_not_found(&id_or_key);
    };
    let types: Vec<Value> = project.types.iter().map(|t| t.value.clone()).collect();
    ok(&paged(types, "issueTypes", start, max))
}

pub(crate) async fn issue_type_fields(
    State(sim): State<Arc<Shared>>,
    Path((id_or_key, type_id)): Path<(String, String)>,
    Query(params): Query<Params>,
    method: Method,
    uri: Uri,
) -> Response {
    if !sim.new_createmeta.load(Ordering::Relaxed) {
        return no_resource(&method, uri.path());
    }
    let (start, max) = match offset_page(&params, PAGE, CAP) {
        Ok(page) => page,
        Err(rejection) => return rejection.response(),
    };
    let Some(project) = project(&sim, &id_or_key) else {
        return project_not_found(&id_or_key);
    };
    let Some(ty) = project
        .types
        .iter()
        .find(|t| t.value["id"] == type_id.as_str())
    else {
        return jira_error(
            axum::http::StatusCode::NOT_FOUND,
            &format!(
                "The issue type with id '{type_id}' does not exist or is not valid for project '{}'.",
                project.key
            ),
        );
    };
    let fields: Vec<Value> = createmeta_fields(&sim.issues.site, project, ty)
        .into_iter()
        .map(|(id, mut meta)| {
            if let Some(map) = meta.as_object_mut() {
                map.insert("fieldId".into(), id.into());
            }
            meta
        })
        .collect();
    ok(&paged(fields, "fields", start, max))
}

fn list(params: &Params, name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The deprecated endpoint: unknown project keys are silently skipped, as Jira does.
pub(crate) async fn legacy(
    State(sim): State<Arc<Shared>>,
    Query(params): Query<Params>,
) -> Response {
    let keys = list(&params, "projectKeys");
    let ids = list(&params, "projectIds");
    let type_ids = list(&params, "issuetypeIds");
    let type_names = list(&params, "issuetypeNames");
    let with_fields = param(&params, "expand").is_some_and(|e| {
        e.split(',')
            .any(|x| x.trim() == "projects.issuetypes.fields")
    });
    let projects: Vec<Value> = sim
        .dataset
        .projects
        .iter()
        .zip(&sim.issues.site.projects)
        .filter(|(p, _)| {
            (keys.is_empty() && ids.is_empty())
                || p["key"]
                    .as_str()
                    .is_some_and(|k| keys.iter().any(|x| x == k))
                || p["id"].as_str().is_some_and(|i| ids.iter().any(|x| x == i))
        })
        .map(|(p, ctx)| {
            let types: Vec<Value> = ctx
                .types
                .iter()
                .filter(|t| {
                    (type_ids.is_empty() && type_names.is_empty())
                        || t.value["id"]
                            .as_str()
                            .is_some_and(|i| type_ids.iter().any(|x| x == i))
                        || t.value["name"]
                            .as_str()
                            .is_some_and(|n| type_names.iter().any(|x| x == n))
                })
                .map(|t| {
                    let mut ty = t.value.clone();
                    if let (true, Some(map)) = (with_fields, ty.as_object_mut()) {
                        let fields: Map<String, Value> =
                            createmeta_fields(&sim.issues.site, ctx, t)
                                .into_iter()
                                .collect();
                        map.insert("expand".into(), "fields".into());
                        map.insert("fields".into(), Value::Object(fields));
                    }
                    ty
                })
                .collect();
            json!({
                "expand": "issuetypes",
                "self": p["self"],
                "id": p["id"],
                "key": p["key"],
                "name": p["name"],
                "avatarUrls": p["avatarUrls"],
                "issuetypes": types,
            })
        })
        .collect();
    ok(&json!({"expand": "projects", "projects": projects}))
}
