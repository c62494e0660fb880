//! Jira Cloud connector: `client.rs` talks HTTP, `extract.rs` decides what to fetch and
//! stores it, `model.rs` holds the shapes the connector reads; `dev_status.rs` and
//! `github_links.rs` learn development information as cheaply as the site allows.

pub mod client;
pub mod dev_status;
pub mod discovery;
pub mod extract;
mod github_links;
pub mod issues;
pub mod model;
