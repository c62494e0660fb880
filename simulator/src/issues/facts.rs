//! One generated issue: identity, type, parent and dates, all derived from (seed, index),
//! plus its version (the bumps applied since the simulator started).

use super::history::Plan;
use super::site::{
    Category, GENERATED_ID_BASE, ProjectCtx, Site, StatusCtx, TypeCtx, TypeKind, User, dataset_end,
    site_start,
};
use crate::rng::Rng;
use crate::time::{DAY, HOUR, MINUTE};
use serde_json::Value;

/// Separate random streams per concern, so adding one field never shifts the others.
pub(crate) mod salt {
    pub(crate) const TYPE: u64 = 0x01;
    pub(crate) const PARENT: u64 = 0x02;
    pub(crate) const CREATED: u64 = 0x03;
    pub(crate) const UPDATED: u64 = 0x04;
    pub(crate) const HISTORIES: u64 = 0x05;
    pub(crate) const SUMMARY: u64 = 0x06;
    pub(crate) const DESCRIPTION: u64 = 0x07;
    pub(crate) const PEOPLE: u64 = 0x08;
    pub(crate) const PRIORITY: u64 = 0x09;
    pub(crate) const RESOLUTION: u64 = 0x0A;
    pub(crate) const LISTS: u64 = 0x0B;
    pub(crate) const DUE: u64 = 0x0C;
    pub(crate) const HISTORY_KIND: u64 = 0x10;
    pub(crate) const HISTORY_TIME: u64 = 0x11;
    pub(crate) const HISTORY_AUTHOR: u64 = 0x12;
    pub(crate) const HISTORY_ITEM: u64 = 0x13;
    pub(crate) const BUMP: u64 = 0x20;
    pub(crate) const DEV: u64 = 0x30;
}

fn rng(site: &Site, g: usize, salt: u64) -> Rng {
    Rng::new(&[site.spec.seed, g as u64, salt])
}

/// Creation time: issue numbers grow with time inside a project, as on a real site.
pub(crate) fn created(site: &Site, g: usize) -> i64 {
    let per = site.per_project.max(1) as i64;
    let (p, i) = (
        (g / site.per_project.max(1)) as i64,
        (g % site.per_project.max(1)) as i64,
    );
    let span = dataset_end() - 45 * DAY - site_start();
    let slot = (span / per).max(1);
    site_start() + slot * i + rng(site, g, salt::CREATED).between(0, slot) + (p % 97) * 7 * MINUTE
}

/// Changelog length before any bump.
pub(crate) fn history_count(site: &Site, g: usize) -> usize {
    let spec = &site.spec;
    let mut rng = rng(site, g, salt::HISTORIES);
    if spec.long_changelog_every > 0 && (g + 1).is_multiple_of(spec.long_changelog_every) {
        120 + rng.below(31)
    } else {
        rng.below(2 * spec.mean_histories + 1)
    }
}

/// Last update before any bump: the time of the last history, or creation when there is none.
pub(crate) fn base_updated(site: &Site, g: usize, created: i64, histories: usize) -> i64 {
    if histories == 0 {
        return created;
    }
    let room = (dataset_end() - created).clamp(HOUR + 1, 540 * DAY);
    created + rng(site, g, salt::UPDATED).between(HOUR, room)
}

fn base_type(site: &Site, project: &ProjectCtx, g: usize) -> usize {
    let mut rng = rng(site, g, salt::TYPE);
    let roll = rng.below(100);
    let pool = if roll < 6 && !project.epic_types.is_empty() {
        &project.epic_types
    } else if roll < 28 && !project.subtask_types.is_empty() {
        &project.subtask_types
    } else if !project.standard_types.is_empty() {
        &project.standard_types
    } else {
        return rng.below(project.types.len());
    };
    rng.pick(pool).copied().unwrap_or(0)
}

/// Looks for another issue of the project, numbered below `i`, whose type has `kind`.
fn find_in_project(
    site: &Site,
    project: &ProjectCtx,
    g: usize,
    kind: TypeKind,
    rng: &mut Rng,
) -> Option<usize> {
    let i = g % site.per_project;
    let first = g - i;
    if i == 0 {
        return None;
    }
    (0..8).find_map(|_| {
        let candidate = first + rng.below(i);
        (project.types[base_type(site, project, candidate)].kind == kind).then_some(candidate)
    })
}

/// The final type and parent: sub-tasks need a standard parent (else they become standard
/// issues), about half of the standard issues belong to an epic.
fn type_and_parent(site: &Site, project: &ProjectCtx, g: usize) -> (usize, Option<usize>) {
    let ty = base_type(site, project, g);
    let mut rng = rng(site, g, salt::PARENT);
    match project.types[ty].kind {
        TypeKind::Epic => (ty, None),
        TypeKind::Subtask => {
            match find_in_project(site, project, g, TypeKind::Standard, &mut rng) {
                Some(parent) => (ty, Some(parent)),
                None => match rng.pick(&project.standard_types) {
                    Some(&standard) => (standard, None),
                    None => (ty, None),
                },
            }
        }
        TypeKind::Standard => {
            let parent = if rng.chance(45) {
                find_in_project(site, project, g, TypeKind::Epic, &mut rng)
            } else {
                None
            };
            (ty, parent)
        }
    }
}

pub(crate) struct Issue<'s> {
    pub(crate) site: &'s Site,
    pub(crate) project: &'s ProjectCtx,
    pub(crate) g: usize,
    pub(crate) id: u64,
    pub(crate) key: String,
    pub(crate) type_ix: usize,
    pub(crate) parent: Option<usize>,
    pub(crate) created: i64,
    pub(crate) base_updated: i64,
    pub(crate) plan: Plan,
    /// Times of the bumps applied to this issue, oldest first.
    pub(crate) bumps: Vec<i64>,
    /// Assignee after each bump.
    pub(crate) bump_assignees: Vec<Option<usize>>,
}

impl<'s> Issue<'s> {
    pub(crate) fn new(site: &'s Site, g: usize, bumps: &[i64]) -> Issue<'s> {
        let (project, number) = site.locate(g);
        let (type_ix, parent) = type_and_parent(site, project, g);
        let created = created(site, g);
        let histories = history_count(site, g);
        let base_updated = base_updated(site, g, created, histories);
        let plan = Plan::new(site, g, &project.types[type_ix], histories);
        let mut assignee = plan.assignee.last().copied().flatten();
        let bump_assignees = (0..bumps.len())
            .map(|b| {
                let mut rng = Rng::new(&[site.spec.seed, g as u64, salt::BUMP, b as u64]);
                assignee = super::history::other_user(&mut rng, site.humans().len(), assignee);
                assignee
            })
            .collect();
        Issue {
            id: GENERATED_ID_BASE + g as u64,
            key: format!("{}-{number}", project.key),
            bumps: bumps.to_vec(),
            site,
            project,
            g,
            type_ix,
            parent,
            created,
            base_updated,
            plan,
            bump_assignees,
        }
    }

    pub(crate) fn rng(&self, salt: u64) -> Rng {
        rng(self.site, self.g, salt)
    }

    pub(crate) fn updated(&self) -> i64 {
        self.bumps
            .last()
            .copied()
            .unwrap_or(self.base_updated)
            .max(self.base_updated)
    }

    pub(crate) fn issue_type(&self) -> &'s TypeCtx {
        &self.project.types[self.type_ix]
    }

    pub(crate) fn status(&self) -> &'s StatusCtx {
        let ty = self.issue_type();
        let at = self.plan.status.last().copied().unwrap_or(0);
        &ty.statuses[at.min(ty.statuses.len() - 1)]
    }

    pub(crate) fn assignee(&self) -> Option<&'s User> {
        let current = match self.bump_assignees.last() {
            Some(after_bump) => *after_bump,
            None => self.plan.assignee.last().copied().flatten(),
        };
        current.and_then(|u| self.site.humans().get(u))
    }

    pub(crate) fn reporter(&self) -> Option<&'s User> {
        let mut rng = self.rng(salt::PEOPLE);
        // imported issues sometimes have no reporter at all
        if rng.chance(3) {
            return None;
        }
        rng.pick(self.site.humans())
    }

    pub(crate) fn priority(&self) -> &'s Value {
        let at = self.plan.priority.last().copied().unwrap_or(2);
        &self.site.priorities[at.min(self.site.priorities.len() - 1)]
    }

    pub(crate) fn resolution(&self) -> Option<&'s Value> {
        if self.status().category != Category::Done {
            return None;
        }
        let roll = self.rng(salt::RESOLUTION).below(100);
        let at = match roll {
            0..70 => 0,
            70..85 => 1,
            85..95 => 2,
            _ => 3,
        };
        self.site.resolutions.get(at)
    }

    /// When the status last changed (creation if it never did).
    pub(crate) fn status_changed_at(&self) -> i64 {
        self.plan
            .last_status_change
            .map_or(self.created, |j| self.history_time(j))
    }

    /// The epic's key when the parent is an epic (what the legacy Epic Link field holds).
    pub(crate) fn epic_key(&self) -> Option<String> {
        let parent = self.parent?;
        let (project, _) = self.site.locate(parent);
        let ty = type_and_parent(self.site, project, parent).0;
        (project.types[ty].kind == TypeKind::Epic).then(|| self.site.key(parent))
    }

    pub(crate) fn history_total(&self) -> usize {
        self.plan.kinds.len() + self.bumps.len()
    }

    /// Creation time of history `j`: spread between creation and the last update, the last
    /// one exactly at `base_updated`; bump histories at their bump time.
    pub(crate) fn history_time(&self, j: usize) -> i64 {
        let count = self.plan.kinds.len();
        if j >= count {
            return self
                .bumps
                .get(j - count)
                .copied()
                .unwrap_or(self.base_updated);
        }
        if j + 1 == count {
            return self.base_updated;
        }
        let span = self.base_updated - self.created;
        let n = count as i64;
        let nominal = self.created + span * (j as i64 + 1) / n;
        let step = span / n;
        let jitter = if step > 1 {
            Rng::new(&[
                self.site.spec.seed,
                self.g as u64,
                salt::HISTORY_TIME,
                j as u64,
            ])
            .between(0, step / 2)
        } else {
            0
        };
        nominal - jitter
    }
}
