//! A generated issue as Jira Cloud REST v3 returns it.

use super::custom;
use super::facts::{Issue, salt};
use super::history::histories;
use super::out::Out;
use super::select::FieldSel;
use super::site::User;
use super::text;
use crate::dataset::GENERATED_SITE;
use crate::time::{DAY, date, jira};

/// What Jira puts in every issue's `expand` attribute.
pub(crate) const ISSUE_EXPAND: &str = "operations,versionedRepresentations,editmeta,changelog,customfield_10010.requestTypePractice,renderedFields";

pub(crate) fn issue_self(id: u64) -> String {
    format!("{GENERATED_SITE}/rest/api/3/issue/{id}")
}

/// `{"startAt":0,"maxResults":C,"total":T,"histories":[first C]}`.
pub(crate) fn embedded_changelog(histories: Vec<Out<'_>>, total: usize) -> Out<'_> {
    Out::Obj(vec![
        ("startAt", Out::Int(0)),
        ("maxResults", Out::count(histories.len())),
        ("total", Out::count(total)),
        ("histories", Out::Arr(histories)),
    ])
}

/// The issue object; `changelog_cap` embeds the first histories (expand=changelog).
pub(crate) fn issue_json<'s>(
    issue: &Issue<'s>,
    sel: &FieldSel,
    changelog_cap: Option<usize>,
) -> Out<'s> {
    let mut out = Vec::with_capacity(6);
    match sel {
        FieldSel::IdOnly => out.push(("id", Out::Str(issue.id.to_string()))),
        FieldSel::KeyOnly => {
            out.push(("id", Out::Str(issue.id.to_string())));
            out.push(("key", Out::Str(issue.key.clone())));
            out.push(("self", Out::Str(issue_self(issue.id))));
        }
        FieldSel::Some { .. } => {
            out.push(("expand", Out::Text(ISSUE_EXPAND)));
            out.push(("id", Out::Str(issue.id.to_string())));
            out.push(("self", Out::Str(issue_self(issue.id))));
            out.push(("key", Out::Str(issue.key.clone())));
            out.push(("fields", Out::Obj(fields(issue, sel))));
        }
    }
    if let Some(cap) = changelog_cap {
        let total = issue.history_total();
        out.push((
            "changelog",
            embedded_changelog(histories(issue, 0, cap), total),
        ));
    }
    Out::Obj(out)
}

/// Light objects for id/key listings, without building the issue.
pub(crate) fn light_json<'a>(id: u64, key: String, sel: &FieldSel) -> Out<'a> {
    let mut out = vec![("id", Out::Str(id.to_string()))];
    if *sel != FieldSel::IdOnly {
        out.push(("key", Out::Str(key)));
        out.push(("self", Out::Str(issue_self(id))));
    }
    Out::Obj(out)
}

fn user(u: Option<&User>) -> Out<'_> {
    Out::opt(u.map(|u| &u.value))
}

fn fields<'s>(issue: &Issue<'s>, sel: &FieldSel) -> Vec<(&'s str, Out<'s>)> {
    let mut map: Vec<(&'s str, Out<'s>)> = Vec::with_capacity(24 + issue.site.custom.len());
    let mut put = |name: &'static str, make: &dyn Fn() -> Out<'s>| {
        if sel.wants(name) {
            map.push((name, make()));
        }
    };
    let project = issue.project;
    put("statuscategorychangedate", &|| {
        Out::Str(jira(issue.status_changed_at()))
    });
    put("issuetype", &|| Out::Ref(&issue.issue_type().value));
    if issue.parent.is_some() {
        put("parent", &|| {
            issue.parent.map_or(Out::Null, |p| parent_json(issue, p))
        });
    }
    put("project", &|| Out::Ref(&project.reference));
    put("fixVersions", &|| {
        let mut rng = issue.rng(salt::LISTS);
        let count = rng.below(3);
        let start = rng.below(project.versions.len());
        Out::Arr(
            project
                .versions
                .iter()
                .skip(start)
                .take(count)
                .map(Out::Ref)
                .collect(),
        )
    });
    let resolution = issue.resolution();
    put("resolution", &|| Out::opt(resolution));
    put("resolutiondate", &|| {
        resolution.map_or(Out::Null, |_| Out::Str(jira(issue.status_changed_at())))
    });
    put("created", &|| Out::Str(jira(issue.created)));
    put("priority", &|| Out::Ref(issue.priority()));
    put("labels", &|| {
        let mut rng = issue.rng(salt::LISTS + 1);
        let count = rng.below(4);
        Out::Arr(
            text::labels(&mut rng, count)
                .into_iter()
                .map(Out::Text)
                .collect(),
        )
    });
    put("assignee", &|| user(issue.assignee()));
    put("updated", &|| Out::Str(jira(issue.updated())));
    put("status", &|| Out::Ref(&issue.status().value));
    put("components", &|| {
        let mut rng = issue.rng(salt::LISTS + 2);
        let count = rng.below(3);
        let start = rng.below(project.components.len());
        Out::Arr(
            project
                .components
                .iter()
                .skip(start)
                .take(count)
                .map(Out::Ref)
                .collect(),
        )
    });
    put("description", &|| {
        let mut rng = issue.rng(salt::DESCRIPTION);
        if rng.chance(20) {
            Out::Null
        } else {
            Out::opt(rng.pick(&issue.site.descriptions))
        }
    });
    put("summary", &|| {
        Out::Str(text::summary(&mut issue.rng(salt::SUMMARY)))
    });
    let reporter = issue.reporter();
    put("creator", &|| {
        user(Some(reporter.unwrap_or(issue.site.automation())))
    });
    put("reporter", &|| user(reporter));
    put("duedate", &|| {
        let mut rng = issue.rng(salt::DUE);
        if rng.chance(80) {
            Out::Null
        } else {
            Out::Str(date(issue.created + rng.between(DAY, 90 * DAY)))
        }
    });
    for field in &issue.site.custom {
        if sel.wants(&field.id) {
            map.push((field.id.as_str(), custom::value(field, issue)));
        }
    }
    map
}

/// `{"id","key","self","fields":{summary,status,priority,issuetype}}` as Jira embeds parents.
fn parent_json<'s>(issue: &Issue<'s>, parent: usize) -> Out<'s> {
    let parent = Issue::new(issue.site, parent, &[]);
    Out::Obj(vec![
        ("id", Out::Str(parent.id.to_string())),
        ("key", Out::Str(parent.key.clone())),
        ("self", Out::Str(issue_self(parent.id))),
        (
            "fields",
            Out::Obj(vec![
                (
                    "summary",
                    Out::Str(text::summary(&mut parent.rng(salt::SUMMARY))),
                ),
                ("status", Out::Ref(&parent.status().value)),
                ("priority", Out::Ref(parent.priority())),
                ("issuetype", Out::Ref(&parent.issue_type().value)),
            ]),
        ),
    ])
}
