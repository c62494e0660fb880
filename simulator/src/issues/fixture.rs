//! Recorded issues, served verbatim (quirks included: ED-1 has `"updated": 1` and a plain
//! string description; the Airbyte issue carries extra top-level keys and -0700 offsets).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::out::Out;
use super::select::FieldSel;
use crate::time::parse_timestamp;

/// When a recorded issue has no usable `updated` or `created`: the `lastIssueUpdateTime`
/// the recorded project EX reports in its `insight`.
const FALLBACK_UPDATED: &str = "2021-04-22T05:37:05.000+0000";

pub(crate) struct FixtureIssue {
    pub(crate) value: Value,
    pub(crate) id: String,
    pub(crate) key: String,
    /// Key prefix and number, for `ORDER BY key`.
    pub(crate) prefix: String,
    pub(crate) number: u64,
    pub(crate) project_key: String,
    pub(crate) project_id: String,
    pub(crate) project_name: String,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) histories: Vec<Value>,
}

/// Unique recorded issues in order; `changelog` becomes the first one's changelog.
pub(crate) fn load_fixture_issues(issues: &[Value], changelog: &[Value]) -> Vec<FixtureIssue> {
    let fallback = parse_timestamp(FALLBACK_UPDATED).unwrap_or(0);
    let mut seen = BTreeSet::new();
    let mut out: Vec<FixtureIssue> = Vec::new();
    for value in issues {
        let id = text(&value["id"]);
        if id.is_empty() || !seen.insert(id.clone()) {
            continue;
        }
        let key = text(&value["key"]);
        let (prefix, number) = split_key(&key);
        let fields = &value["fields"];
        let project = &fields["project"];
        let project_key = Some(text(&project["key"]))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| text(&value["projectKey"]));
        let project_id = Some(text(&project["id"]))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| text(&value["projectId"]));
        let stamp = |name: &str| {
            fields[name]
                .as_str()
                .or_else(|| value[name].as_str())
                .and_then(parse_timestamp)
        };
        let created = stamp("created");
        let updated = stamp("updated").or(created).unwrap_or(fallback);
        out.push(FixtureIssue {
            project_name: text(&project["name"]),
            created: created.unwrap_or(updated),
            histories: if out.is_empty() {
                changelog.to_vec()
            } else {
                Vec::new()
            },
            value: value.clone(),
            id,
            key,
            prefix,
            number,
            project_key,
            project_id,
            updated,
        });
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// "ED-12" -> ("ED", 12); keys without a number sort first.
pub(crate) fn split_key(key: &str) -> (String, u64) {
    match key.rsplit_once('-') {
        Some((prefix, n)) => (prefix.to_owned(), n.parse().unwrap_or(0)),
        None => (key.to_owned(), 0),
    }
}

impl FixtureIssue {
    pub(crate) fn json(&self, sel: &FieldSel, changelog_cap: Option<usize>) -> Out<'_> {
        if sel.is_everything() && changelog_cap.is_none() {
            return Out::Ref(&self.value);
        }
        let mut out = match sel {
            FieldSel::IdOnly => {
                let mut map = Map::new();
                map.insert("id".into(), self.id.clone().into());
                map
            }
            FieldSel::KeyOnly => {
                let mut map = Map::new();
                map.insert("id".into(), self.id.clone().into());
                map.insert("key".into(), self.key.clone().into());
                map.insert("self".into(), self.value["self"].clone());
                map
            }
            _ => {
                let mut map = self.value.as_object().cloned().unwrap_or_default();
                if !sel.is_everything()
                    && let Some(Value::Object(fields)) = map.get_mut("fields")
                {
                    fields.retain(|name, _| sel.wants(name));
                }
                map
            }
        };
        if let Some(cap) = changelog_cap {
            let first: Vec<Value> = self.histories.iter().take(cap).cloned().collect();
            let changelog = json!({
                "startAt": 0,
                "maxResults": first.len(),
                "total": self.histories.len(),
                "histories": first,
            });
            out.insert("changelog".into(), changelog);
        }
        Out::Own(Value::Object(out))
    }
}
