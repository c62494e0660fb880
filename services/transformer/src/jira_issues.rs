//! Jira issues → `work_items` rows (with mapped custom fields) and changelog pages →
//! `work_item_changelogs` rows. Standard fields are parsed typed from borrowed raw JSON; a
//! custom field is parsed only when it is mapped or has a meaning (story points, sprint, ...).

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sluice_proto::v1 as pb;

use crate::field_values::{FieldSchema, Meaning, convert_raw, meaning};
use crate::jira::{Text, TransformError, text};

/// The mapping and discovered schemas an issue page is transformed with.
#[derive(Debug, Clone, Default)]
pub struct FieldContext {
    /// field id → column (1..=20 dedicated, 0 overflow)
    pub mapping: HashMap<String, i32>,
    pub schemas: HashMap<String, FieldSchema>,
}

impl FieldContext {
    fn meaning_of(&self, field_id: &str) -> Option<Meaning> {
        self.schemas.get(field_id).and_then(meaning)
    }
}

/// Jira's `2024-03-05T14:22:31.123+0000` (and RFC 3339) into UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    jira_time(text).or_else(|| {
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(text))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The exact shape Jira writes, `yyyy-MM-ddTHH:mm:ss.SSS±hhmm`, read without a format
/// parser (every issue has three times and every history one); anything else is None.
fn jira_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 28
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || !matches!(b[23], b'+' | b'-')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
        num(20, 23)?,
    )?;
    let offset = (num(24, 26)? * 3600 + num(26, 28)? * 60) as i32;
    let offset = if b[23] == b'-' { -offset } else { offset };
    let local = date.and_time(time);
    Some(DateTime::from_naive_utc_and_offset(
        local - chrono::Duration::seconds(i64::from(offset)),
        Utc,
    ))
}

/// A search page with each issue still raw: issues are read one by one, so one that cannot
/// be read is quarantined instead of failing its page.
#[derive(Deserialize)]
struct SearchPage<'a> {
    #[serde(borrow)]
    issues: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Issue<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(default, borrow)]
    fields: Fields<'a>,
    #[serde(default, borrow)]
    changelog: Option<Changelog<'a>>,
}

#[derive(Deserialize)]
struct Changelog<'a> {
    #[serde(default, borrow)]
    histories: Vec<History<'a>>,
    #[serde(default)]
    total: Option<u64>,
}

impl Changelog<'_> {
    /// Jira embedded only part of it; the connector fetched the whole of it separately.
    fn truncated(&self) -> bool {
        (self.histories.len() as u64) < self.total.unwrap_or(0)
    }
}

#[derive(Deserialize)]
struct History<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(default, borrow)]
    author: Option<User<'a>>,
    #[serde(borrow)]
    created: Text<'a>,
    #[serde(default, borrow)]
    items: Vec<HistoryItem<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryItem<'a> {
    #[serde(default, borrow)]
    field: Option<Text<'a>>,
    #[serde(default, borrow)]
    field_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    fieldtype: Option<Text<'a>>,
    #[serde(default, borrow)]
    from: Option<Text<'a>>,
    #[serde(default, borrow)]
    from_string: Option<Text<'a>>,
    #[serde(default, borrow)]
    to: Option<Text<'a>>,
    #[serde(default, borrow)]
    to_string: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct User<'a> {
    #[serde(default, borrow)]
    account_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    display_name: Option<Text<'a>>,
    // Jira Server (v2) users have `name` instead of an account id.
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Named<'a> {
    // Ids are strings on most objects but numbers on some (statusCategory).
    #[serde(default, deserialize_with = "string_or_number")]
    id: Option<String>,
    #[serde(default, borrow)]
    key: Option<Text<'a>>,
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    status_category: Option<Box<Named<'a>>>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

/// An issue's `fields` as found, each value still raw: standard fields are parsed typed on
/// demand, custom ones only when mapped or meaningful. A list, not a hash map: ~50 short
/// keys are found faster by comparison than by hashing every one of them.
#[derive(Default)]
struct Fields<'a>(Vec<(Text<'a>, &'a RawValue)>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .find(|(key, _)| key.as_ref() == name)
            .map(|(_, raw)| *raw)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Fields<'a>, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(48));
                while let Some((key, value)) = map.next_entry::<Text<'de>, &'de RawValue>()? {
                    fields.push((key, value));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// A standard field, typed; absent, null or of another shape → default.
fn field<'a, T: Deserialize<'a> + Default>(fields: &Fields<'a>, name: &str) -> T {
    fields
        .get(name)
        .and_then(|raw| serde_json::from_str::<Option<T>>(raw.get()).ok().flatten())
        .unwrap_or_default()
}

/// A time field: Jira's text format, or (seen in recorded payloads) epoch milliseconds.
fn time_field(fields: &Fields<'_>, name: &str) -> Option<i64> {
    let raw = fields.get(name)?.get();
    if raw.starts_with('"') {
        let text: Text = serde_json::from_str(raw).ok()?;
        parse_time(&text).map(|t| t.timestamp_millis())
    } else {
        raw.parse::<i64>().ok()
    }
}

fn user(value: User<'_>) -> (String, String) {
    let account = value.account_id.or(value.name);
    (text(account), text(value.display_name))
}

/// Transforms a `search/jql` page: one work item per issue, plus the changelog histories
/// embedded in it. A truncated changelog is skipped here: the connector fetched all of it
/// (bulkfetch or per-issue pages), and loading the embedded part too would have two pages
/// write the same rows.
pub fn transform_search_page(
    body: &[u8],
    context: &FieldContext,
    only: Option<&[usize]>,
) -> Result<SearchRows, TransformError> {
    let page: SearchPage =
        serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
            extraction_type: "jira.issues".into(),
            source,
        })?;
    let mut rows = SearchRows {
        work_items: Vec::with_capacity(page.issues.len()),
        ..SearchRows::default()
    };
    for (index, raw) in page.issues.into_iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&index)) {
            continue;
        }
        let issue: Issue = match serde_json::from_str(raw.get()) {
            Ok(issue) => issue,
            Err(error) => {
                rows.quarantined.push((
                    index,
                    format!("issue at position {index} is unreadable: {error}"),
                ));
                continue;
            }
        };
        let changelog = issue
            .changelog
            .as_ref()
            .filter(|c| !c.truncated())
            .map(|c| changelog_rows(&issue.id, &issue.key, &c.histories));
        match work_item(issue, context) {
            Ok(item) => {
                rows.work_items.push(item);
                rows.changelogs.extend(changelog.unwrap_or_default());
            }
            Err(error) => rows.quarantined.push((index, error.to_string())),
        }
    }
    Ok(rows)
}

/// The rows of one search page, and the issues set aside (position, reason).
#[derive(Debug, Default)]
pub struct SearchRows {
    pub work_items: Vec<pb::WorkItemRow>,
    pub changelogs: Vec<pb::WorkItemChangelogRow>,
    pub quarantined: Vec<(usize, String)>,
}

fn work_item(issue: Issue<'_>, context: &FieldContext) -> Result<pb::WorkItemRow, TransformError> {
    let f = &issue.fields;
    let Some(updated_ms) = time_field(f, "updated").or_else(|| time_field(f, "created")) else {
        return Err(TransformError::Invalid(format!(
            "issue {} has no readable `updated` (nor `created`) time",
            issue.key
        )));
    };
    let project: Named = field(f, "project");
    let status: Named = field(f, "status");
    let issue_type: Named = field(f, "issuetype");
    let priority: Named = field(f, "priority");
    let resolution: Named = field(f, "resolution");
    let parent: Named = field(f, "parent");
    let (assignee_account_id, assignee_name) = user(field(f, "assignee"));
    let (reporter_account_id, reporter_name) = user(field(f, "reporter"));
    let components: Vec<Named> = field(f, "components");
    let fix_versions: Vec<Named> = field(f, "fixVersions");
    let mut row = pb::WorkItemRow {
        external_id: issue.id.clone().into_owned(),
        key: issue.key.clone().into_owned(),
        project_external_id: project.id.unwrap_or_default(),
        project_key: text(project.key),
        summary: field(f, "summary"),
        description_text: crate::adf::raw_to_text(f.get("description")),
        status_external_id: status.id.unwrap_or_default(),
        status_name: text(status.name),
        status_category_key: text(status.status_category.and_then(|c| c.key)),
        wit_external_id: issue_type.id.unwrap_or_default(),
        wit_name: text(issue_type.name),
        priority: text(priority.name),
        assignee_account_id,
        assignee_name,
        reporter_account_id,
        reporter_name,
        created_ms: time_field(f, "created"),
        updated_ms,
        resolution_date_ms: time_field(f, "resolutiondate"),
        resolution: text(resolution.name),
        parent_key: text(parent.key),
        labels: field(f, "labels"),
        components: components
            .into_iter()
            .filter_map(|c| c.name.map(Cow::into_owned))
            .collect(),
        fix_versions: fix_versions
            .into_iter()
            .filter_map(|c| c.name.map(Cow::into_owned))
            .collect(),
        ..Default::default()
    };
    let mut overflow = Map::new();
    for (field_id, raw) in &f.0 {
        let column = context.mapping.get(field_id.as_ref()).copied();
        let meaning = context.meaning_of(field_id);
        if column.is_none() && meaning.is_none() {
            continue;
        }
        let schema = context.schemas.get(field_id.as_ref());
        let converted = convert_raw(raw, schema);
        match meaning {
            Some(Meaning::StoryPoints) => row.story_points = converted.as_f64(),
            Some(Meaning::Sprint) => {
                // The most recent sprint is the last one Jira lists.
                row.sprint = match &converted {
                    Value::Array(names) => names
                        .iter()
                        .rev()
                        .find_map(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    Value::String(name) => name.clone(),
                    _ => String::new(),
                }
            }
            Some(Meaning::EpicLink) => {
                row.epic_key = converted.as_str().unwrap_or_default().to_string()
            }
            Some(Meaning::Team) => row.team = converted.as_str().unwrap_or_default().to_string(),
            None => {}
        }
        match column {
            // A null overflow field is left out: absent reads the same and costs no index entry.
            Some(0) if converted.is_null() => {}
            Some(0) => {
                let name = schema
                    .map(|s| s.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| field_id.to_string());
                overflow.insert(name, converted);
            }
            Some(column) if !converted.is_null() => {
                row.custom_columns.insert(column, converted.to_string());
            }
            _ => {}
        }
    }
    if row.epic_key.is_empty() && !row.parent_key.is_empty() {
        // Team-managed projects and the new hierarchy link epics as parents.
        let parent: Value = field(f, "parent");
        let parent_level = parent
            .pointer("/fields/issuetype/hierarchyLevel")
            .and_then(Value::as_i64);
        if parent_level == Some(1) {
            row.epic_key = row.parent_key.clone();
        }
    }
    row.overflow_json = Value::Object(overflow).to_string();
    Ok(row)
}

fn changelog_rows(
    issue_id: &str,
    issue_key: &str,
    histories: &[History<'_>],
) -> Vec<pb::WorkItemChangelogRow> {
    let mut rows = Vec::new();
    for history in histories {
        let Some(changed_at) = parse_time(&history.created) else {
            continue;
        };
        let author = history.author.as_ref();
        for (index, item) in history.items.iter().enumerate() {
            rows.push(pb::WorkItemChangelogRow {
                work_item_external_id: issue_id.to_string(),
                work_item_key: issue_key.to_string(),
                history_id: history.id.to_string(),
                item_index: index as i32,
                field: item.field.as_deref().unwrap_or_default().to_string(),
                field_id: item.field_id.as_deref().unwrap_or_default().to_string(),
                field_type: item.fieldtype.as_deref().unwrap_or_default().to_string(),
                from_value: item.from.as_deref().map(str::to_string),
                from_string: item.from_string.as_deref().map(str::to_string),
                to_value: item.to.as_deref().map(str::to_string),
                to_string: item.to_string.as_deref().map(str::to_string),
                author_account_id: author
                    .and_then(|a| a.account_id.as_deref().or(a.name.as_deref()))
                    .unwrap_or_default()
                    .to_string(),
                author_name: author
                    .and_then(|a| a.display_name.as_deref())
                    .unwrap_or_default()
                    .to_string(),
                changed_at_ms: changed_at.timestamp_millis(),
            });
        }
    }
    rows
}

#[derive(Deserialize)]
struct ChangelogPage<'a> {
    #[serde(borrow)]
    values: Vec<History<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkChangelogPage<'a> {
    #[serde(borrow)]
    issue_change_logs: Vec<BulkIssueChangelog<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkIssueChangelog<'a> {
    #[serde(borrow)]
    issue_id: Text<'a>,
    #[serde(default, borrow)]
    change_histories: Vec<History<'a>>,
}

/// `/issue/{key}/changelog` pages (context names the issue) and `changelog/bulkfetch` pages.
pub fn transform_changelog_page(
    extraction_type: &str,
    body: &[u8],
    context: &Value,
) -> Result<Vec<pb::WorkItemChangelogRow>, TransformError> {
    let malformed = |source| TransformError::Malformed {
        extraction_type: extraction_type.to_string(),
        source,
    };
    match extraction_type {
        "jira.issue_changelog" => {
            let issue_id = context
                .get("issue_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let issue_key = context
                .get("issue_key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if issue_id.is_empty() {
                return Err(TransformError::Invalid(
                    "changelog page without issue_id in its request context".into(),
                ));
            }
            let page: ChangelogPage = serde_json::from_slice(body).map_err(malformed)?;
            Ok(changelog_rows(issue_id, issue_key, &page.values))
        }
        _ => {
            let page: BulkChangelogPage = serde_json::from_slice(body).map_err(malformed)?;
            let keys: HashMap<&str, &str> = context
                .get("issue_keys")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(id, key)| key.as_str().map(|k| (id.as_str(), k)))
                        .collect()
                })
                .unwrap_or_default();
            Ok(page
                .issue_change_logs
                .iter()
                .flat_map(|log| {
                    changelog_rows(
                        &log.issue_id,
                        keys.get(log.issue_id.as_ref()).copied().unwrap_or_default(),
                        &log.change_histories,
                    )
                })
                .collect())
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Field<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    #[serde(default)]
    custom: bool,
    #[serde(default, borrow)]
    schema: Option<Schema<'a>>,
}

#[derive(Deserialize)]
struct Schema<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Option<Text<'a>>,
    #[serde(default, borrow)]
    items: Option<Text<'a>>,
    #[serde(default, borrow)]
    custom: Option<Text<'a>>,
}

/// `/rest/api/3/field` → site-wide field rows (project_key empty).
pub fn transform_fields(body: &[u8]) -> Result<Vec<pb::CustomFieldRow>, TransformError> {
    let fields: Vec<Field> =
        serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
            extraction_type: "jira.fields".into(),
            source,
        })?;
    Ok(fields
        .into_iter()
        .map(|f| {
            let schema = f.schema.unwrap_or(Schema {
                kind: None,
                items: None,
                custom: None,
            });
            pb::CustomFieldRow {
                project_key: String::new(),
                field_id: f.id.into_owned(),
                name: text(f.name),
                custom: f.custom,
                schema_type: text(schema.kind),
                schema_items: text(schema.items),
                custom_type: text(schema.custom),
                required: false,
                allowed_values_json: "[]".into(),
                issue_type_ids: Vec::new(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEARCH_JQL: &[u8] = include_bytes!("../../../simulator/fixtures/jira/search-jql.json");
    const FIELDS: &[u8] = include_bytes!("../../../simulator/fixtures/jira/field.jira-cli.json");
    const CHANGELOG: &[u8] =
        include_bytes!("../../../simulator/fixtures/jira/issue-changelog.json");

    #[test]
    fn recorded_search_page_becomes_work_items() {
        let items = transform_search_page(SEARCH_JQL, &FieldContext::default(), None)
            .unwrap()
            .work_items;
        assert_eq!(items.len(), 1);
        assert!(!items[0].key.is_empty());
        assert!(items[0].updated_ms > 0);
    }

    #[test]
    fn mapped_and_meaningful_custom_fields_land_where_configured() {
        let page = json!({"issues":[{"id":"1","key":"P-1","fields":{
            "summary":"Retry billing 💳","updated":"2024-03-05T14:22:31.123+0000","created":"2024-03-01T10:00:00.000+0000",
            "status":{"id":"3","name":"Done","statusCategory":{"id":3,"key":"done","name":"Done"}},
            "assignee":{"accountId":"a1","displayName":"Ana"},"reporter":null,
            "labels":["billing"],"components":[{"name":"api"}],
            "customfield_1":{"value":"High"},"customfield_2":12.5,"customfield_3":[{"name":"Sprint 3","state":"closed"},{"name":"Sprint 4","state":"active"}],
            "customfield_4":{"weird":true},"customfield_5":"ignored because unmapped"
        }}]});
        let mut context = FieldContext::default();
        context.mapping.insert("customfield_1".into(), 1);
        context.mapping.insert("customfield_4".into(), 0);
        context.schemas.insert(
            "customfield_2".into(),
            FieldSchema {
                name: "Story point estimate".into(),
                schema_type: "number".into(),
                ..Default::default()
            },
        );
        context.schemas.insert(
            "customfield_3".into(),
            FieldSchema {
                custom_type: "com.pyxis.greenhopper.jira:gh-sprint".into(),
                ..Default::default()
            },
        );
        context.schemas.insert(
            "customfield_4".into(),
            FieldSchema {
                name: "Odd thing".into(),
                ..Default::default()
            },
        );
        let items = transform_search_page(page.to_string().as_bytes(), &context, None)
            .unwrap()
            .work_items;
        let item = &items[0];
        assert_eq!(item.summary, "Retry billing 💳");
        assert_eq!(
            item.custom_columns.get(&1).map(String::as_str),
            Some("\"High\"")
        );
        assert_eq!(item.story_points, Some(12.5));
        assert_eq!(item.sprint, "Sprint 4");
        assert_eq!(
            item.status_category_key, "done",
            "numeric ids inside objects do not hide them"
        );
        assert_eq!(
            (item.status_external_id.as_str(), item.status_name.as_str()),
            ("3", "Done")
        );
        assert_eq!(item.assignee_name, "Ana");
        assert_eq!(item.reporter_name, "");
        let overflow: Value = serde_json::from_str(&item.overflow_json).unwrap();
        assert_eq!(overflow, json!({"Odd thing": {"weird": true}}));
    }

    #[test]
    fn jira_times_read_without_a_format_parser_agree_with_chrono() {
        for text in [
            "2024-03-05T14:22:31.123+0000",
            "2024-03-05T00:22:31.999+0530",
            "2023-12-31T23:59:59.000-0800",
            "2024-02-29T12:00:00.001-0000",
        ] {
            let fast = jira_time(text).expect(text);
            let slow = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
                .expect(text)
                .with_timezone(&Utc);
            assert_eq!(fast, slow, "{text}");
        }
        // Other shapes are left to chrono.
        assert!(jira_time("2024-03-05T14:22:31Z").is_none());
        assert!(jira_time("2024-02-30T12:00:00.000+0000").is_none());
        assert_eq!(
            parse_time("2024-03-05T14:22:31Z").map(|t| t.timestamp()),
            Some(1_709_648_551)
        );
    }

    #[test]
    fn embedded_changelogs_load_only_when_complete() {
        let history = |id: &str| {
            json!({"id": id, "created": "2024-03-05T14:22:31.123+0000",
                   "items": [{"field": "status", "fromString": "To Do", "toString": "Done"}]})
        };
        let issue = |id: &str, total: u64| {
            json!({"id": id, "key": format!("P-{id}"),
                   "fields": {"updated": "2024-03-05T14:22:31.123+0000"},
                   "changelog": {"startAt": 0, "maxResults": 2, "total": total,
                                 "histories": [history("10"), history("11")]}})
        };
        let page = json!({"issues": [issue("1", 2), issue("2", 150)]});
        let SearchRows {
            work_items: items,
            changelogs,
            ..
        } = transform_search_page(page.to_string().as_bytes(), &FieldContext::default(), None)
            .unwrap();
        assert_eq!(items.len(), 2);
        // issue 2's 150 histories come from its bulkfetch pages, not from these two
        let issues: Vec<&str> = changelogs
            .iter()
            .map(|c| c.work_item_external_id.as_str())
            .collect();
        assert_eq!(issues, ["1", "1"]);
    }

    #[test]
    fn an_unreadable_issue_is_quarantined_and_the_rest_of_its_page_lands() {
        let page = br#"{"issues":[
            {"id":"1","key":"P-1","fields":{}},
            {"key":"P-2"},
            {"id":"3","key":"P-3","fields":{"updated":"2024-03-05T14:22:31.123+0000"}}
        ]}"#;
        let rows = transform_search_page(page, &FieldContext::default(), None).unwrap();
        let keys: Vec<&str> = rows.work_items.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["P-3"]);
        assert_eq!(rows.quarantined.len(), 2);
        assert_eq!(rows.quarantined[0].0, 0);
        assert!(
            rows.quarantined[0].1.contains("P-1"),
            "{:?}",
            rows.quarantined
        );
        assert_eq!(rows.quarantined[1].0, 1);
        assert!(
            rows.quarantined[1].1.contains("missing field `id`"),
            "{:?}",
            rows.quarantined
        );
        // A requeued record alone: only it is transformed.
        let alone = transform_search_page(page, &FieldContext::default(), Some(&[2])).unwrap();
        assert_eq!(alone.work_items.len(), 1);
        assert!(alone.quarantined.is_empty());
        // A page that is not a search page at all still fails as a page.
        assert!(transform_search_page(b"{\"issues\":7}", &FieldContext::default(), None).is_err());
    }

    #[test]
    fn changelog_pages_and_fields() {
        let rows = transform_changelog_page(
            "jira.issue_changelog",
            CHANGELOG,
            &json!({"issue_id":"10001","issue_key":"EX-1"}),
        )
        .unwrap();
        assert!(!rows.is_empty());
        assert!(
            rows.iter()
                .all(|r| r.work_item_external_id == "10001" && r.changed_at_ms > 0)
        );
        let fields = transform_fields(FIELDS).unwrap();
        assert!(fields.iter().any(|f| f.custom));
    }
}

#[derive(Deserialize)]
struct DevDetail {
    #[serde(default)]
    detail: Vec<DevInstance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevInstance {
    #[serde(default)]
    pull_requests: Vec<Value>,
    #[serde(default)]
    branches: Vec<Value>,
    #[serde(default)]
    repositories: Vec<Value>,
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `/rest/dev-status/latest/issue/detail` → branches, commits and pull requests of one issue.
pub fn transform_dev_status(
    body: &[u8],
    context: &Value,
) -> Result<Vec<pb::WorkItemDevStatusRow>, TransformError> {
    let issue_id = context
        .get("issue_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if issue_id.is_empty() {
        return Err(TransformError::Invalid(
            "dev-status page without issue_id in its request context".into(),
        ));
    }
    let detail: DevDetail =
        serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
            extraction_type: "jira.dev_status_detail".into(),
            source,
        })?;
    let time = |value: &Value, pointer: &str| {
        parse_time(str_at(value, pointer)).map(|t| t.timestamp_millis())
    };
    let mut rows = Vec::new();
    for instance in detail.detail {
        for pr in &instance.pull_requests {
            let url = str_at(pr, "/url");
            rows.push(pb::WorkItemDevStatusRow {
                work_item_external_id: issue_id.to_string(),
                kind: "pull_request".into(),
                ref_id: if url.is_empty() {
                    format!("{}{}", str_at(pr, "/repositoryName"), str_at(pr, "/id"))
                } else {
                    url.to_string()
                },
                name: str_at(pr, "/name").to_string(),
                status: str_at(pr, "/status").to_string(),
                url: url.to_string(),
                repository: str_at(pr, "/repositoryName").to_string(),
                author_name: str_at(pr, "/author/name").to_string(),
                last_update_ms: time(pr, "/lastUpdate"),
            });
        }
        for branch in &instance.branches {
            let url = str_at(branch, "/url");
            let repository = str_at(branch, "/repository/name");
            rows.push(pb::WorkItemDevStatusRow {
                work_item_external_id: issue_id.to_string(),
                kind: "branch".into(),
                ref_id: if url.is_empty() {
                    format!("{repository}:{}", str_at(branch, "/name"))
                } else {
                    url.to_string()
                },
                name: str_at(branch, "/name").to_string(),
                url: url.to_string(),
                repository: repository.to_string(),
                ..Default::default()
            });
        }
        for repository in &instance.repositories {
            let name = str_at(repository, "/name");
            for commit in repository
                .get("commits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let sha = str_at(commit, "/id");
                if sha.is_empty() {
                    continue;
                }
                rows.push(pb::WorkItemDevStatusRow {
                    work_item_external_id: issue_id.to_string(),
                    kind: "commit".into(),
                    ref_id: sha.to_string(),
                    name: str_at(commit, "/message")
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    url: str_at(commit, "/url").to_string(),
                    repository: name.to_string(),
                    author_name: str_at(commit, "/author/name").to_string(),
                    last_update_ms: time(commit, "/authorTimestamp"),
                    ..Default::default()
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod dev_status_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dev_status_detail_becomes_rows() {
        let body = json!({"errors":[],"detail":[{
            "pullRequests":[{"id":"#12","name":"P-1: fix","status":"MERGED","url":"https://github.com/o/r/pull/12","repositoryName":"o/r","author":{"name":"ana"},"lastUpdate":"2024-03-05T14:22:31.000+0000"}],
            "branches":[{"name":"P-1-fix","url":"https://github.com/o/r/tree/P-1-fix","repository":{"name":"o/r"}}],
            "repositories":[{"name":"o/r","commits":[{"id":"abc123","message":"P-1 fix\n\nbody","author":{"name":"ana"},"url":"u","authorTimestamp":"2024-03-04T10:00:00.000+0000"}]}]
        }]});
        let rows = transform_dev_status(body.to_string().as_bytes(), &json!({"issue_id":"10001"}))
            .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].kind.as_str(), rows[0].status.as_str()),
            ("pull_request", "MERGED")
        );
        assert_eq!(rows[2].name, "P-1 fix");
        assert!(transform_dev_status(b"{}", &json!({})).is_err());
    }
}

#[derive(Deserialize)]
struct KeyPage<'a> {
    #[serde(default, borrow)]
    issues: Vec<KeyRef<'a>>,
}

#[derive(Deserialize)]
struct KeyRef<'a> {
    #[serde(borrow)]
    id: Text<'a>,
}

/// A page of a key-only listing (`fields=key`): the ids a project has now.
pub fn transform_key_listing(
    body: &[u8],
    context: &Value,
) -> Result<pb::IssueKeyListing, TransformError> {
    let project_key = context
        .get("project_key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let listing_id = context
        .get("listing_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if project_key.is_empty() || listing_id.is_empty() {
        return Err(TransformError::Invalid(
            "key listing page without project_key and listing_id in its request context".into(),
        ));
    }
    let page: KeyPage =
        serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
            extraction_type: "jira.issue_keys".into(),
            source,
        })?;
    Ok(pb::IssueKeyListing {
        project_key: project_key.to_string(),
        listing_id: listing_id.to_string(),
        external_ids: page.issues.into_iter().map(|i| i.id.into_owned()).collect(),
        last: context
            .get("last")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        page: context
            .get("page")
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(0),
        listed_at_ms: context.get("listed_at_ms").and_then(Value::as_i64),
    })
}

fn allowed_value_names(field: &Value) -> Vec<String> {
    field
        .get("allowedValues")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    other => ["value", "name", "key"]
                        .iter()
                        .find_map(|k| other.get(*k).and_then(Value::as_str).map(str::to_string)),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn createmeta_row(
    project_key: &str,
    issue_type_id: &str,
    field_id: &str,
    field: &Value,
) -> pb::CustomFieldRow {
    let schema = field.get("schema");
    let schema_str = |name: &str| {
        schema
            .and_then(|s| s.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    pb::CustomFieldRow {
        project_key: project_key.to_string(),
        field_id: field_id.to_string(),
        name: field
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        custom: field_id.starts_with("customfield_"),
        schema_type: schema_str("type"),
        schema_items: schema_str("items"),
        custom_type: schema_str("custom"),
        required: field
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        allowed_values_json: serde_json::to_string(&allowed_value_names(field))
            .unwrap_or_else(|_| "[]".into()),
        issue_type_ids: vec![issue_type_id.to_string()],
    }
}

/// createmeta pages → the fields each project's issue types offer (required, allowed values).
pub fn transform_createmeta(
    extraction_type: &str,
    body: &[u8],
    context: &Value,
) -> Result<Vec<pb::CustomFieldRow>, TransformError> {
    let malformed = |source| TransformError::Malformed {
        extraction_type: extraction_type.to_string(),
        source,
    };
    let page: Value = serde_json::from_slice(body).map_err(malformed)?;
    let project_key = context
        .get("project_key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if project_key.is_empty() {
        return Err(TransformError::Invalid(
            "createmeta page without project_key in its request context".into(),
        ));
    }
    let mut rows = Vec::new();
    if extraction_type == "jira.createmeta_fields" {
        let issue_type_id = context
            .get("issue_type_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let fields = page
            .get("fields")
            .or_else(|| page.get("values"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                TransformError::Invalid("createmeta fields page without a `fields` list".into())
            })?;
        for field in fields {
            let Some(field_id) = field
                .get("fieldId")
                .or_else(|| field.get("key"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            rows.push(createmeta_row(project_key, issue_type_id, field_id, field));
        }
    } else {
        for project in page
            .get("projects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for issue_type in project
                .get("issuetypes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let issue_type_id = issue_type
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                for (field_id, field) in issue_type
                    .get("fields")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    rows.push(createmeta_row(project_key, issue_type_id, field_id, field));
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod createmeta_tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[u8] =
        include_bytes!("../../../simulator/fixtures/jira/issue-createmeta-issuetype-fields.json");
    const LEGACY: &[u8] = include_bytes!("../../../simulator/fixtures/jira/issue-createmeta.json");

    #[test]
    fn recorded_createmeta_pages_become_field_rows() {
        let rows = transform_createmeta(
            "jira.createmeta_fields",
            FIELDS,
            &json!({"project_key":"ED","issue_type_id":"1"}),
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].field_id.as_str(), rows[0].required),
            ("assignee", true)
        );
        assert_eq!(rows[0].issue_type_ids, vec!["1".to_string()]);
        let legacy = transform_createmeta(
            "jira.createmeta_legacy",
            LEGACY,
            &json!({"project_key":"ED"}),
        )
        .unwrap();
        assert!(
            legacy
                .iter()
                .any(|r| r.field_id == "issuetype" && r.allowed_values_json.contains("set"))
        );
        assert!(transform_createmeta("jira.createmeta_fields", FIELDS, &json!({})).is_err());
    }
}
