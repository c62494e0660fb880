//! Fixed site objects issues refer to: priorities, resolutions, teams, and per project its
//! components, versions and sprints.

use serde_json::{Value, json};

use super::people::uuid;
use super::site::{dataset_end, site_start};
use crate::dataset::GENERATED_SITE;
use crate::rng::hash;
use crate::time::{DAY, HOUR};

pub(crate) fn priorities() -> Vec<Value> {
    ["Highest", "High", "Medium", "Low", "Lowest"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "self": format!("{GENERATED_SITE}/rest/api/3/priority/{}", i + 1),
                "iconUrl": format!("{GENERATED_SITE}/images/icons/priorities/{}.svg", name.to_lowercase()),
                "name": name,
                "id": (i + 1).to_string(),
            })
        })
        .collect()
}

pub(crate) fn resolutions() -> Vec<Value> {
    [
        (
            "10000",
            "Done",
            "Work has taken place and no further action is needed.",
        ),
        ("10001", "Won't Do", "This issue won't be actioned."),
        (
            "10002",
            "Duplicate",
            "The problem is a duplicate of an existing issue.",
        ),
        (
            "10003",
            "Cannot Reproduce",
            "This issue couldn't be reproduced.",
        ),
    ]
    .iter()
    .map(|(id, name, description)| {
        json!({
            "self": format!("{GENERATED_SITE}/rest/api/3/resolution/{id}"),
            "id": id,
            "description": description,
            "name": name,
        })
    })
    .collect()
}

pub(crate) fn teams(seed: u64) -> Vec<Value> {
    ["Platform", "Growth", "Data Platform", "Équipe Mobile"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let id = uuid(
                hash(&[seed, 0x7EA, i as u64]),
                hash(&[seed, 0x7EB, i as u64]),
            );
            json!({
                "id": id,
                "name": name,
                "title": name,
                "isShared": true,
                "isVisible": true,
                "isVerified": false,
            })
        })
        .collect()
}

pub(crate) fn components(project: usize) -> Vec<Value> {
    [
        ("Backend", Some("Services and APIs")),
        ("Frontend", None),
        ("Mobile apps", Some("iOS and Android")),
        ("Intégrations", Some("Connectors to third-party tools")),
    ]
    .iter()
    .enumerate()
    .map(|(c, (name, description))| {
        let id = (40_000 + project * 8 + c).to_string();
        let mut component = json!({
            "self": format!("{GENERATED_SITE}/rest/api/3/component/{id}"),
            "id": id,
            "name": name,
        });
        if let (Some(d), Some(map)) = (description, component.as_object_mut()) {
            map.insert("description".into(), (*d).into());
        }
        component
    })
    .collect()
}

pub(crate) fn versions(project: usize, project_id: &str) -> Vec<Value> {
    let names = ["1.0", "1.1", "2.0", "2.1 LTS", "3.0 🚀", "Backlog"];
    let step = (dataset_end() - site_start()) / 5;
    names
        .iter()
        .enumerate()
        .map(|(v, name)| {
            let id = (50_000 + project * 8 + v).to_string();
            let mut version = json!({
                "self": format!("{GENERATED_SITE}/rest/api/3/version/{id}"),
                "id": id,
                "description": if v == 5 { "" } else { "Release train" },
                "name": name,
                "archived": v == 0,
                "released": v < 4,
            });
            if let (true, Some(map)) = (v < 5, version.as_object_mut()) {
                let at = site_start() + step * (v as i64 + 1);
                map.insert("releaseDate".into(), crate::time::date(at).into());
            }
            if let Some(map) = version.as_object_mut() {
                map.insert(
                    "projectId".into(),
                    project_id.parse::<u64>().map_or(Value::Null, Value::from),
                );
            }
            version
        })
        .collect()
}

/// Two-week sprints ending at the dataset's end: four closed, one active, one future.
pub(crate) fn sprints(project: usize, key: &str) -> Vec<Value> {
    (0..6usize)
        .map(|s| {
            let start = dataset_end() - (4 - s as i64) * 14 * DAY - 8 * HOUR;
            let end = start + 14 * DAY;
            let state = match s {
                0..=3 => "closed",
                4 => "active",
                _ => "future",
            };
            let mut sprint = json!({
                "id": project * 10 + s + 1,
                "name": format!("{key} Sprint {}", s + 1),
                "state": state,
                "boardId": project + 1,
                "goal": if s % 2 == 0 { "" } else { "Ship the onboarding flow" },
            });
            if let Some(map) = sprint.as_object_mut() {
                // future sprints have no dates yet
                if state != "future" {
                    map.insert("startDate".into(), crate::time::iso_z(start).into());
                    map.insert("endDate".into(), crate::time::iso_z(end).into());
                }
                if state == "closed" {
                    map.insert("completeDate".into(), crate::time::iso_z(end + HOUR).into());
                }
            }
            sprint
        })
        .collect()
}
