//! Jira issues: the recorded fixture issues plus a generated population that is rebuilt on
//! demand from (seed, index, version), so 100k issues cost a few vectors of integers.
//!
//! Layout: `site` holds what every generated issue draws from (`people`, `catalog`, `custom`
//! field definitions, `text` pools), `facts` derives one issue's identity, type, parent and
//! dates, `history` its changelog, `render` its JSON as a borrowing `out` tree, `fixture` the
//! recorded issues, `store` the mutable part (bumps, deletions) and the search index;
//! `field_defs` and `devinfo` feed /field, createmeta and dev-status.

mod catalog;
mod custom;
mod devinfo;
mod facts;
mod field_defs;
mod fixture;
mod history;
mod out;
mod people;
mod render;
mod select;
mod site;
mod store;
mod text;

pub use devinfo::PullRequestSpec;
pub(crate) use devinfo::{DevCounts, detail as dev_detail, summary as dev_summary};
pub(crate) use field_defs::{DEVELOPMENT_FIELD, createmeta_fields, field_list};
pub(crate) use out::Out;
pub(crate) use select::FieldSel;
pub(crate) use site::ProjectCtx;
pub(crate) use store::{IssueRef, IssueStore, SearchError};

/// What generated issues look like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueSpec {
    pub issues_per_project: usize,
    pub seed: u64,
    /// Number of custom fields (default 30). The first 18 cover one schema type each (text,
    /// number, story points, date, datetime, select, multiselect, user, multi-user, version,
    /// multi-version, sprint, cascading select, ADF textarea, url, labels, team, epic link);
    /// later ones repeat the cycle under new names and ids.
    pub custom_fields: usize,
    /// Mean changelog histories per issue (default 8); `long_changelog_every` issues get > 100 histories.
    pub mean_histories: usize,
    /// e.g. 50 -> every 50th issue has 120..=150 histories; 0 = never.
    pub long_changelog_every: usize,
    /// Every n-th issue has development information (dev-status); 0 = none.
    pub dev_status_every: usize,
}

impl Default for IssueSpec {
    fn default() -> IssueSpec {
        IssueSpec {
            issues_per_project: 100,
            seed: 42,
            custom_fields: 30,
            mean_histories: 8,
            long_changelog_every: 50,
            dev_status_every: 4,
        }
    }
}
