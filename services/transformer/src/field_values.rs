//! Custom field values converted by their shape and schema: options become their value,
//! users their display name, versions/sprints/teams their name, ADF its text, cascading
//! selects "parent > child". A shape we do not know is kept as its JSON, never dropped.

use serde_json::Value;

/// What is known of a field from discovery (`/rest/api/3/field`).
#[derive(Debug, Clone, Default)]
pub struct FieldSchema {
    pub name: String,
    pub schema_type: String,
    pub schema_items: String,
    pub custom_type: String,
}

/// Converts one raw value: scalars directly (most custom values are numbers, dates and
/// strings), objects and arrays through [`convert`].
pub fn convert_raw(raw: &serde_json::value::RawValue, schema: Option<&FieldSchema>) -> Value {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') if schema.is_none_or(|s| s.schema_type != "datetime") => {
            serde_json::from_str::<String>(text).map_or(Value::Null, Value::String)
        }
        Some(b'n') if text == "null" => Value::Null,
        _ => convert(&serde_json::from_str(text).unwrap_or(Value::Null), schema),
    }
}

/// Converts one value. Unknown shapes come back unchanged.
pub fn convert(value: &Value, schema: Option<&FieldSchema>) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| convert(v, schema)).collect()),
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("doc") {
                return Value::String(crate::adf::to_text(value));
            }
            if let Some(name) = map.get("displayName").and_then(Value::as_str) {
                return Value::String(name.to_string());
            }
            if map.contains_key("accountId") {
                return map.get("accountId").cloned().unwrap_or(Value::Null);
            }
            if let Some(option) = map.get("value").and_then(Value::as_str) {
                return match map
                    .get("child")
                    .and_then(|c| c.get("value"))
                    .and_then(Value::as_str)
                {
                    Some(child) => Value::String(format!("{option} > {child}")),
                    None => Value::String(option.to_string()),
                };
            }
            if let Some(name) = map.get("name").and_then(Value::as_str) {
                return Value::String(name.to_string());
            }
            if let Some(title) = map.get("title").and_then(Value::as_str) {
                return Value::String(title.to_string());
            }
            value.clone()
        }
        Value::String(text) if schema.is_some_and(|s| s.schema_type == "datetime") => {
            Value::String(
                crate::jira_issues::parse_time(text)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| text.clone()),
            )
        }
        other => other.clone(),
    }
}

/// Fields with a meaning of their own, recognised by schema or custom type (never by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    StoryPoints,
    Sprint,
    EpicLink,
    Team,
}

pub fn meaning(schema: &FieldSchema) -> Option<Meaning> {
    let custom = schema.custom_type.as_str();
    let name = schema.name.as_str();
    if custom.ends_with(":gh-sprint") {
        Some(Meaning::Sprint)
    } else if custom.ends_with(":gh-epic-link") {
        Some(Meaning::EpicLink)
    } else if custom.ends_with(":jsw-story-points")
        || (schema.schema_type == "number"
            && (name.eq_ignore_ascii_case("story points")
                || name.eq_ignore_ascii_case("story point estimate")))
    {
        Some(Meaning::StoryPoints)
    } else if custom.ends_with(":atlassian-team")
        || custom.contains("rm-teams")
        || (custom.ends_with(":team") && name.eq_ignore_ascii_case("team"))
    {
        Some(Meaning::Team)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_each_known_shape() {
        assert_eq!(
            convert(&json!({"self":"x","value":"High","id":"1"}), None),
            json!("High")
        );
        assert_eq!(
            convert(&json!([{"value":"A"},{"value":"B"}]), None),
            json!(["A", "B"])
        );
        assert_eq!(
            convert(&json!({"value":"EMEA","child":{"value":"Paris"}}), None),
            json!("EMEA > Paris")
        );
        assert_eq!(
            convert(&json!({"accountId":"5b1","displayName":"Ana Ruiz"}), None),
            json!("Ana Ruiz")
        );
        assert_eq!(convert(&json!({"accountId":"5b1"}), None), json!("5b1"));
        assert_eq!(
            convert(&json!({"id":"10","name":"2.1","released":true}), None),
            json!("2.1")
        );
        assert_eq!(
            convert(
                &json!([{"id":1,"name":"Sprint 7","state":"active","boardId":3}]),
                None
            ),
            json!(["Sprint 7"])
        );
        assert_eq!(
            convert(
                &json!({"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}),
                None
            ),
            json!("hi")
        );
        assert_eq!(convert(&json!(3.5), None), json!(3.5));
        assert_eq!(convert(&json!("2024-03-05"), None), json!("2024-03-05"));
        let datetime = FieldSchema {
            schema_type: "datetime".into(),
            ..Default::default()
        };
        assert_eq!(
            convert(&json!("2024-03-05T14:22:31.123+0200"), Some(&datetime)),
            json!("2024-03-05T12:22:31.123+00:00")
        );
        let odd = json!({"weird": {"nested": [1, 2]}});
        assert_eq!(convert(&odd, None), odd, "unknown shapes are kept as JSON");
    }

    #[test]
    fn meanings_come_from_schema_not_ids() {
        let sprint = FieldSchema {
            custom_type: "com.pyxis.greenhopper.jira:gh-sprint".into(),
            ..Default::default()
        };
        assert_eq!(meaning(&sprint), Some(Meaning::Sprint));
        let points = FieldSchema {
            name: "Story point estimate".into(),
            schema_type: "number".into(),
            ..Default::default()
        };
        assert_eq!(meaning(&points), Some(Meaning::StoryPoints));
        let plain = FieldSchema {
            name: "Cost".into(),
            schema_type: "number".into(),
            ..Default::default()
        };
        assert_eq!(meaning(&plain), None);
    }
}
