//! Integration tests against real PostgreSQL and RabbitMQ, with Jira simulated.

mod api;
mod catalog;
mod credentials;
mod cursors;
mod deletions;
mod dev_status;
mod github;
mod github_graphql;
mod grpcurl;
mod harness;
mod https;
mod internal_auth;
mod issues;
mod notifications;
mod orchestration;
mod pacing;
mod pipeline;
mod poison;
mod reindex;
mod vectors;
