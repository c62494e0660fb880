//! Changelog histories of generated issues. Status, assignee and priority changes form
//! chains that end at the issue's current values, so the changelog and the fields agree.

use super::custom::CfKind;
use super::facts::{Issue, salt};
use super::out::Out;
use super::site::{Category, Site, TypeCtx};
use super::text;
use crate::rng::Rng;
use crate::time::jira;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HistKind {
    Status,
    Assignee,
    Priority,
    Labels,
    Summary,
    Description,
    /// Index into the site's custom fields.
    Custom(usize),
    FixVersion,
    Link,
}

/// What each base history changes, and the values the chained fields walk through.
pub(crate) struct Plan {
    pub(crate) kinds: Vec<HistKind>,
    /// Status indices (into the issue type's statuses): initial, then after each change.
    pub(crate) status: Vec<usize>,
    /// Assignees (indices into the human users), same layout.
    pub(crate) assignee: Vec<Option<usize>>,
    /// Priority indices, same layout.
    pub(crate) priority: Vec<usize>,
    pub(crate) last_status_change: Option<usize>,
}

/// A user different from `current` (or nobody), among `count` humans.
pub(crate) fn other_user(rng: &mut Rng, count: usize, current: Option<usize>) -> Option<usize> {
    // slot `count` stands for "unassigned"
    let slots = count + 1;
    let now = current.unwrap_or(count);
    let mut next = rng.below(slots - 1);
    if next >= now {
        next += 1;
    }
    (next < count).then_some(next)
}

fn other_index(rng: &mut Rng, count: usize, current: usize) -> usize {
    let mut next = rng.below(count - 1);
    if next >= current {
        next += 1;
    }
    next
}

impl Plan {
    pub(crate) fn new(site: &Site, g: usize, ty: &TypeCtx, histories: usize) -> Plan {
        let seed = site.spec.seed;
        let humans = site.humans().len();
        let mut start = Rng::new(&[seed, g as u64, salt::PEOPLE, 1]);
        let mut plan = Plan {
            kinds: Vec::with_capacity(histories),
            status: vec![ty.initial_status()],
            assignee: vec![if start.chance(20) {
                None
            } else {
                Some(start.below(humans))
            }],
            priority: vec![initial_priority(&mut Rng::new(&[
                seed,
                g as u64,
                salt::PRIORITY,
            ]))],
            last_status_change: None,
        };
        let customs: Vec<usize> = site
            .custom
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    CfKind::StoryPoints | CfKind::Sprint | CfKind::Select
                )
            })
            .map(|f| f.index)
            .collect();
        for j in 0..histories {
            let mut rng = Rng::new(&[seed, g as u64, salt::HISTORY_KIND, j as u64]);
            let kind = match rng.below(100) {
                0..30 if ty.statuses.len() > 1 => HistKind::Status,
                30..45 => HistKind::Assignee,
                45..53 => HistKind::Priority,
                63..68 => HistKind::Summary,
                68..73 => HistKind::Description,
                73..87 if !customs.is_empty() => {
                    HistKind::Custom(customs[rng.below(customs.len())])
                }
                87..93 => HistKind::FixVersion,
                93..100 => HistKind::Link,
                _ => HistKind::Labels,
            };
            match kind {
                HistKind::Status => {
                    let now = plan.status.last().copied().unwrap_or(0);
                    plan.status
                        .push(other_index(&mut rng, ty.statuses.len(), now));
                    plan.last_status_change = Some(j);
                }
                HistKind::Assignee => {
                    let now = plan.assignee.last().copied().flatten();
                    plan.assignee.push(other_user(&mut rng, humans, now));
                }
                HistKind::Priority => {
                    let now = plan.priority.last().copied().unwrap_or(2);
                    plan.priority
                        .push(other_index(&mut rng, site.priorities.len(), now));
                }
                _ => {}
            }
            plan.kinds.push(kind);
        }
        plan
    }
}

/// Medium most of the time, like real backlogs.
fn initial_priority(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..8 => 0,
        8..28 => 1,
        28..78 => 2,
        78..93 => 3,
        _ => 4,
    }
}

fn item<'a>(
    field: &'a str,
    fieldtype: &'static str,
    field_id: Option<&'a str>,
    from: Out<'a>,
    from_string: Out<'a>,
    to: Out<'a>,
    to_string: Out<'a>,
) -> Out<'a> {
    let mut map = Vec::with_capacity(7);
    map.push(("field", Out::Text(field)));
    map.push(("fieldtype", Out::Text(fieldtype)));
    // some items (links, attachments) come without a fieldId on real sites
    if let Some(id) = field_id {
        map.push(("fieldId", Out::Text(id)));
    }
    map.push(("from", from));
    map.push(("fromString", from_string));
    map.push(("to", to));
    map.push(("toString", to_string));
    Out::Obj(map)
}

fn user_ref(site: &Site, user: Option<usize>) -> (Out<'_>, Out<'_>) {
    match user.and_then(|u| site.humans().get(u)) {
        Some(u) => (Out::Text(&u.account_id), Out::Text(&u.name)),
        None => (Out::Null, Out::Null),
    }
}

/// Histories `from..to` of `issue` (base ones then one per bump), oldest first.
pub(crate) fn histories<'s>(issue: &Issue<'s>, from: usize, to: usize) -> Vec<Out<'s>> {
    let site = issue.site;
    let plan = &issue.plan;
    let base = plan.kinds.len();
    let to = to.min(issue.history_total());
    let mut out = Vec::with_capacity(to.saturating_sub(from));
    let (mut status_t, mut assignee_t, mut priority_t) = (0, 0, 0);
    for (j, kind) in plan.kinds.iter().enumerate().take(to) {
        match kind {
            HistKind::Status => status_t += 1,
            HistKind::Assignee => assignee_t += 1,
            HistKind::Priority => priority_t += 1,
            _ => {}
        }
        if j < from {
            continue;
        }
        let mut rng = Rng::new(&[site.spec.seed, issue.g as u64, salt::HISTORY_ITEM, j as u64]);
        let mut items = Vec::with_capacity(2);
        match *kind {
            HistKind::Status => status_items(issue, status_t, &mut items),
            HistKind::Assignee => {
                let (f, fs) = user_ref(site, plan.assignee[assignee_t - 1]);
                let (t, ts) = user_ref(site, plan.assignee[assignee_t]);
                items.push(item("assignee", "jira", Some("assignee"), f, fs, t, ts));
            }
            HistKind::Priority => {
                let a = &site.priorities[plan.priority[priority_t - 1]];
                let b = &site.priorities[plan.priority[priority_t]];
                items.push(change(
                    "priority",
                    "jira",
                    Some("priority"),
                    Some(a),
                    Some(b),
                    "name",
                ));
            }
            HistKind::Labels => items.push(labels_item(&mut rng)),
            HistKind::Summary => {
                let old = text::summary(&mut rng);
                let new = text::summary(&mut issue.rng(salt::SUMMARY));
                items.push(item(
                    "summary",
                    "jira",
                    Some("summary"),
                    Out::Null,
                    Out::Str(old),
                    Out::Null,
                    Out::Str(new),
                ));
            }
            HistKind::Description => {
                let old = text::plain_description(&mut rng);
                let new = text::plain_description(&mut rng);
                items.push(item(
                    "description",
                    "jira",
                    Some("description"),
                    Out::Null,
                    Out::Text(old),
                    Out::Null,
                    Out::Text(new),
                ));
            }
            HistKind::Custom(ix) => items.push(custom_item(issue, ix, &mut rng)),
            HistKind::FixVersion => {
                if let Some(v) = rng.pick(&issue.project.versions) {
                    items.push(item(
                        "Fix Version",
                        "jira",
                        Some("fixVersions"),
                        Out::Null,
                        Out::Null,
                        Out::Ref(&v["id"]),
                        Out::Ref(&v["name"]),
                    ));
                }
            }
            HistKind::Link => {
                let number = issue.project.first_number + rng.below(site.per_project.max(1)) as u64;
                let other = format!("{}-{number}", issue.project.key);
                let text = format!("This issue relates to {other}");
                items.push(item(
                    "Link",
                    "jira",
                    None,
                    Out::Null,
                    Out::Null,
                    Out::Str(other),
                    Out::Str(text),
                ));
            }
        }
        if *kind != HistKind::Labels && rng.chance(15) {
            items.push(labels_item(&mut rng));
        }
        out.push(history(issue, j, items));
    }
    for j in from.max(base)..to {
        let b = j - base;
        let before = if b == 0 {
            plan.assignee.last().copied().flatten()
        } else {
            issue.bump_assignees[b - 1]
        };
        let (f, fs) = user_ref(site, before);
        let (t, ts) = user_ref(site, issue.bump_assignees[b]);
        let items = vec![item("assignee", "jira", Some("assignee"), f, fs, t, ts)];
        out.push(history(issue, j, items));
    }
    out
}

/// An item whose from/to are objects with an `id` and a display attribute (`name`, `value`).
fn change<'a>(
    field: &'a str,
    fieldtype: &'static str,
    field_id: Option<&'a str>,
    from: Option<&'a Value>,
    to: Option<&'a Value>,
    display: &'static str,
) -> Out<'a> {
    let id = |v: Option<&'a Value>| Out::opt(v.map(|v| &v["id"]));
    let shown = |v: Option<&'a Value>| Out::opt(v.map(|v| &v[display]));
    item(
        field,
        fieldtype,
        field_id,
        id(from),
        shown(from),
        id(to),
        shown(to),
    )
}

fn history<'s>(issue: &Issue<'s>, j: usize, items: Vec<Out<'s>>) -> Out<'s> {
    let site = issue.site;
    let mut rng = Rng::new(&[
        site.spec.seed,
        issue.g as u64,
        salt::HISTORY_AUTHOR,
        j as u64,
    ]);
    let author = if rng.chance(6) {
        site.automation()
    } else {
        &site.humans()[rng.below(site.humans().len())]
    };
    // unique across issues as long as an issue has fewer than 10,000 histories
    Out::Obj(vec![
        ("id", Out::Str((issue.id * 10_000 + j as u64).to_string())),
        ("author", Out::Ref(&author.value)),
        ("created", Out::Str(jira(issue.history_time(j)))),
        ("items", Out::Arr(items)),
    ])
}

/// The t-th status change, plus the resolution change that goes with entering or leaving done.
fn status_items<'s>(issue: &Issue<'s>, t: usize, items: &mut Vec<Out<'s>>) {
    let statuses = &issue.issue_type().statuses;
    let plan = &issue.plan;
    let (a, b) = (&statuses[plan.status[t - 1]], &statuses[plan.status[t]]);
    items.push(item(
        "status",
        "jira",
        Some("status"),
        Out::Text(&a.id),
        Out::Text(&a.name),
        Out::Text(&b.id),
        Out::Text(&b.name),
    ));
    let final_change = t + 1 == plan.status.len();
    let done = issue.site.resolutions.first();
    let resolved = if final_change {
        issue.resolution().or(done)
    } else {
        done
    };
    let (was_done, is_done) = (a.category == Category::Done, b.category == Category::Done);
    if was_done != is_done {
        let (from, to) = if is_done {
            (None, resolved)
        } else {
            (resolved, None)
        };
        items.push(change(
            "resolution",
            "jira",
            Some("resolution"),
            from,
            to,
            "name",
        ));
    }
}

fn labels_item<'a>(rng: &mut Rng) -> Out<'a> {
    let n = rng.below(3);
    let before = text::label_string(rng, n);
    let after = format!("{before} {}", text::label_string(rng, 1))
        .trim()
        .to_owned();
    item(
        "labels",
        "jira",
        Some("labels"),
        Out::Null,
        Out::Str(before),
        Out::Null,
        Out::Str(after),
    )
}

fn custom_item<'s>(issue: &Issue<'s>, ix: usize, rng: &mut Rng) -> Out<'s> {
    let field = &issue.site.custom[ix];
    let id = Some(field.id.as_str());
    match field.kind {
        CfKind::Sprint => {
            let Some(sprint) = rng.pick(&issue.project.sprints) else {
                return item(
                    &field.name,
                    "custom",
                    id,
                    Out::Null,
                    Out::Null,
                    Out::Null,
                    Out::Null,
                );
            };
            let to = Out::Str(sprint["id"].to_string());
            item(
                &field.name,
                "custom",
                id,
                Out::Text(""),
                Out::Text(""),
                to,
                Out::Ref(&sprint["name"]),
            )
        }
        CfKind::Select => {
            let count = field.options.len().max(2);
            let from_ix = rng.below(count);
            let to_ix = other_index(rng, count, from_ix);
            // options set for the first time have no "from"
            let from = if rng.chance(40) {
                None
            } else {
                field.options.get(from_ix)
            };
            change(
                &field.name,
                "custom",
                id,
                from,
                field.options.get(to_ix),
                "value",
            )
        }
        _ => {
            let points = ["1", "2", "3", "5", "8", "13"];
            let a = points[rng.below(points.len())];
            let b = points[rng.below(points.len())];
            item(
                &field.name,
                "custom",
                id,
                Out::Null,
                Out::Text(a),
                Out::Null,
                Out::Text(b),
            )
        }
    }
}
