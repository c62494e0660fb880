//! The `sluice` command's library: start every service in one process ([`cluster`]) and the
//! demo client ([`demo`]). Integration tests use the same cluster.

pub mod cluster;
pub mod demo;
