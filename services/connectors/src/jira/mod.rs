//! Jira Cloud connector: `client.rs` talks HTTP, `extract.rs` decides what to fetch and
//! stores it, `model.rs` holds the shapes the connector reads.

pub mod client;
pub mod dev_status;
pub mod discovery;
pub mod extract;
pub mod issues;
pub mod model;
