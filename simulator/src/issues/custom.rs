//! Custom fields: their /field definitions (schema as Jira Cloud gives it) and the value a
//! generated issue holds for each.

use serde_json::{Value, json};

use super::facts::Issue;
use super::out::Out;
use super::text;
use crate::dataset::GENERATED_SITE;
use crate::rng::Rng;
use crate::time::{DAY, date, jira};

const PLUGIN: &str = "com.atlassian.jira.plugin.system.customfieldtypes";
const SOFTWARE: &str = "com.pyxis.greenhopper.jira";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CfKind {
    Text,
    Float,
    StoryPoints,
    Date,
    DateTime,
    Select,
    MultiSelect,
    User,
    MultiUser,
    Version,
    MultiVersion,
    Sprint,
    Cascading,
    Textarea,
    Url,
    Labels,
    Team,
    EpicLink,
}

/// One of each schema type; field n uses `KINDS[n % KINDS.len()]`.
const KINDS: [CfKind; 18] = [
    CfKind::Text,
    CfKind::Float,
    CfKind::StoryPoints,
    CfKind::Date,
    CfKind::DateTime,
    CfKind::Select,
    CfKind::MultiSelect,
    CfKind::User,
    CfKind::MultiUser,
    CfKind::Version,
    CfKind::MultiVersion,
    CfKind::Sprint,
    CfKind::Cascading,
    CfKind::Textarea,
    CfKind::Url,
    CfKind::Labels,
    CfKind::Team,
    CfKind::EpicLink,
];

pub(crate) struct CustomField {
    pub(crate) id: String,
    pub(crate) index: usize,
    pub(crate) kind: CfKind,
    pub(crate) name: String,
    /// The /field object.
    pub(crate) definition: Value,
    /// Select/multiselect options; cascading parents carry their `children`.
    pub(crate) options: Vec<Value>,
}

impl CfKind {
    fn name(self) -> &'static str {
        match self {
            CfKind::Text => "Customer reference",
            CfKind::Float => "Budget (EUR)",
            CfKind::StoryPoints => "Story point estimate",
            CfKind::Date => "Start date",
            CfKind::DateTime => "Deployed at",
            CfKind::Select => "Customer tier",
            CfKind::MultiSelect => "Platforms",
            CfKind::User => "Tech lead",
            CfKind::MultiUser => "Reviewers",
            CfKind::Version => "Target release",
            CfKind::MultiVersion => "Affected releases",
            CfKind::Sprint => "Sprint",
            CfKind::Cascading => "Region",
            CfKind::Textarea => "Acceptance criteria",
            CfKind::Url => "Design link",
            CfKind::Labels => "Tags",
            CfKind::Team => "Team",
            CfKind::EpicLink => "Epic Link",
        }
    }

    /// (type, items, custom type key)
    fn schema(self) -> (&'static str, Option<&'static str>, String) {
        let plugin = |name: &str| format!("{PLUGIN}:{name}");
        match self {
            CfKind::Text => ("string", None, plugin("textfield")),
            CfKind::Float => ("number", None, plugin("float")),
            CfKind::StoryPoints => ("number", None, format!("{SOFTWARE}:jsw-story-points")),
            CfKind::Date => ("date", None, plugin("datepicker")),
            CfKind::DateTime => ("datetime", None, plugin("datetime")),
            CfKind::Select => ("option", None, plugin("select")),
            CfKind::MultiSelect => ("array", Some("option"), plugin("multiselect")),
            CfKind::User => ("user", None, plugin("userpicker")),
            CfKind::MultiUser => ("array", Some("user"), plugin("multiuserpicker")),
            CfKind::Version => ("version", None, plugin("version")),
            CfKind::MultiVersion => ("array", Some("version"), plugin("multiversion")),
            CfKind::Sprint => ("array", Some("json"), format!("{SOFTWARE}:gh-sprint")),
            CfKind::Cascading => ("option-with-child", None, plugin("cascadingselect")),
            CfKind::Textarea => ("string", None, plugin("textarea")),
            CfKind::Url => ("string", None, plugin("url")),
            CfKind::Labels => ("array", Some("string"), plugin("labels")),
            CfKind::Team => ("team", None, plugin("atlassian-team")),
            CfKind::EpicLink => ("any", None, format!("{SOFTWARE}:gh-epic-link")),
        }
    }

    fn option_values(self) -> &'static [&'static str] {
        match self {
            CfKind::Select => &["Free", "Standard", "Premium", "Enterprise"],
            CfKind::MultiSelect => &["Web", "iOS", "Android", "Desktop", "API"],
            CfKind::Cascading => &["EMEA", "AMER", "APAC"],
            _ => &[],
        }
    }
}

const REGIONS: [[&str; 3]; 3] = [
    ["Germany", "France", "Nigeria"],
    ["USA", "Brazil", "Canada"],
    ["Japan", "India", "Australia"],
];

/// The dataset's custom fields: ids customfield_10001.. in kind order.
pub(crate) fn definitions(count: usize) -> Vec<CustomField> {
    (0..count).map(definition).collect()
}

fn definition(index: usize) -> CustomField {
    let kind = KINDS[index % KINDS.len()];
    let round = index / KINDS.len();
    let number = 10_001 + index as u64;
    let id = format!("customfield_{number}");
    let name = if round == 0 {
        kind.name().to_owned()
    } else {
        format!("{} {}", kind.name(), round + 1)
    };
    let (kind_type, items, custom) = kind.schema();
    let mut schema = json!({"type": kind_type, "custom": custom, "customId": number});
    if let Some(map) = schema.as_object_mut() {
        if let Some(items) = items {
            map.insert("items".into(), items.into());
        }
        if kind == CfKind::Team {
            map.insert("configuration".into(), json!({ custom.clone(): true }));
        }
    }
    let mut clause_names = vec![
        Value::from(format!("cf[{number}]")),
        Value::from(name.clone()),
    ];
    if kind == CfKind::Sprint && round == 0 {
        clause_names.push("sprint".into());
    }
    let definition = json!({
        "id": id,
        "key": id,
        "name": name,
        "untranslatedName": name,
        "custom": true,
        "orderable": true,
        "navigable": true,
        "searchable": true,
        "clauseNames": clause_names,
        "schema": schema,
    });
    CustomField {
        options: options(kind, index),
        id,
        index,
        kind,
        name,
        definition,
    }
}

fn option_value(id: u64, value: &str) -> Value {
    json!({
        "self": format!("{GENERATED_SITE}/rest/api/3/customFieldOption/{id}"),
        "value": value,
        "id": id.to_string(),
    })
}

fn options(kind: CfKind, index: usize) -> Vec<Value> {
    let base = 10_100 + 20 * index as u64;
    kind.option_values()
        .iter()
        .enumerate()
        .map(|(o, value)| {
            let mut option = option_value(base + o as u64, value);
            if kind == CfKind::Cascading
                && let Some(map) = option.as_object_mut()
            {
                let children: Vec<Value> = REGIONS[o]
                    .iter()
                    .enumerate()
                    .map(|(c, child)| option_value(base + 3 + 3 * o as u64 + c as u64, child))
                    .collect();
                map.insert("children".into(), children.into());
            }
            option
        })
        .collect()
}

/// The value generated issue `issue` holds in `field` (often null, as on real sites).
pub(crate) fn value<'s>(field: &'s CustomField, issue: &Issue<'s>) -> Out<'s> {
    let mut rng = issue.rng(0xC000 + field.index as u64);
    let site = issue.site;
    let project = issue.project;
    if field.kind == CfKind::EpicLink {
        return issue.epic_key().map_or(Out::Null, Out::Str);
    }
    let null_percent = match field.kind {
        CfKind::StoryPoints | CfKind::Sprint => 25,
        _ => 35,
    };
    if rng.chance(null_percent) {
        return Out::Null;
    }
    let humans = site.humans();
    let user = |rng: &mut Rng| Out::opt(rng.pick(humans).map(|u| &u.value));
    let some = |values: &'s [Value], start: usize, count: usize| {
        Out::Arr(
            values
                .iter()
                .skip(start)
                .take(count)
                .map(Out::Ref)
                .collect(),
        )
    };
    match field.kind {
        CfKind::Text => {
            let refs = [
                "ACME-4411",
                "Ref #2231 – “urgent”",
                "  padded value  ",
                "",
                "SO-00017",
            ];
            Out::Text(refs[rng.below(refs.len())])
        }
        CfKind::Float => Out::Float(rng.between(0, 10_000_000) as f64 / 100.0),
        CfKind::StoryPoints => {
            let points = [0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0];
            Out::Float(points[rng.below(points.len())])
        }
        CfKind::Date => Out::Str(date(issue.created + rng.between(0, 60 * DAY))),
        CfKind::DateTime => Out::Str(jira(rng.between(issue.created, issue.updated() + 1))),
        CfKind::Select => Out::opt(rng.pick(&field.options)),
        CfKind::MultiSelect => {
            let count = 1 + rng.below(3);
            let start = rng.below(field.options.len());
            let n = field.options.len().max(1);
            Out::Arr(
                (0..count.min(n))
                    .filter_map(|k| field.options.get((start + k) % n))
                    .map(Out::Ref)
                    .collect(),
            )
        }
        CfKind::User => user(&mut rng),
        CfKind::MultiUser => Out::Arr((0..1 + rng.below(3)).map(|_| user(&mut rng)).collect()),
        CfKind::Version => Out::opt(rng.pick(&project.versions)),
        CfKind::MultiVersion => {
            let start = rng.below(project.versions.len());
            some(&project.versions, start, 2)
        }
        CfKind::Sprint => {
            // an issue carried over from one sprint to the next lists both
            let start = rng.below(project.sprints.len());
            let count = 1 + usize::from(rng.chance(30));
            some(&project.sprints, start, count)
        }
        CfKind::Cascading => {
            let Some(option) = rng.pick(&field.options) else {
                return Out::Null;
            };
            let child = option["children"].as_array().and_then(|c| rng.pick(c));
            Out::Obj(vec![
                ("self", Out::Ref(&option["self"])),
                ("value", Out::Ref(&option["value"])),
                ("id", Out::Ref(&option["id"])),
                ("child", Out::opt(child)),
            ])
        }
        CfKind::Textarea => Out::opt(rng.pick(&site.textareas)),
        CfKind::Url => {
            let h = rng.next_u64();
            Out::Str(match rng.below(3) {
                0 => format!("https://www.figma.com/file/{h:x}/Checkout?node-id=12-34"),
                1 => format!("https://example.com/specs/{}?lang=fr&q=caf%C3%A9", h % 1000),
                _ => format!("https://docs.google.com/document/d/{h:016x}/edit"),
            })
        }
        CfKind::Labels => {
            let count = 1 + rng.below(3);
            Out::Arr(
                text::labels(&mut rng, count)
                    .into_iter()
                    .map(Out::Text)
                    .collect(),
            )
        }
        CfKind::Team => Out::opt(rng.pick(&site.teams)),
        CfKind::EpicLink => Out::Null,
    }
}

/// What createmeta lists as `allowedValues` for a custom field, when it has a fixed set.
pub(crate) fn allowed_values(field: &CustomField, project: &super::ProjectCtx) -> Option<Value> {
    match field.kind {
        CfKind::Select | CfKind::MultiSelect | CfKind::Cascading => {
            Some(field.options.clone().into())
        }
        CfKind::Version | CfKind::MultiVersion => Some(project.versions.clone().into()),
        _ => None,
    }
}
