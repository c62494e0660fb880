//! Orchestrator errors and their one mapping onto gRPC codes. Internal errors are logged and
//! answered as "internal error": no SQL, driver text or secrets reach the caller.

use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error("{field}: {problem}")]
    InvalidArgument { field: String, problem: String },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, OrchestratorError>;

impl OrchestratorError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        OrchestratorError::InvalidArgument {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl From<OrchestratorError> for Status {
    fn from(error: OrchestratorError) -> Status {
        match error {
            OrchestratorError::InvalidArgument { .. } => {
                Status::invalid_argument(error.to_string())
            }
            OrchestratorError::NotFound { .. } => Status::not_found(error.to_string()),
            OrchestratorError::AlreadyExists(m) => Status::already_exists(m),
            OrchestratorError::FailedPrecondition(m) => Status::failed_precondition(m),
            OrchestratorError::Unimplemented(m) => Status::unimplemented(m),
            OrchestratorError::Unavailable(m) => Status::unavailable(m),
            OrchestratorError::Database(ref e) => {
                tracing::error!(error = %e, "database error");
                Status::internal("internal error")
            }
            OrchestratorError::Internal(ref e) => {
                tracing::error!(error = %e, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
