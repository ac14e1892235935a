//! The one error type of the UI's server functions: what went wrong, in terms the UI can
//! translate. Internals never travel to the browser; the server logs them.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function refused or failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// No one is logged in.
    #[error("not logged in")]
    Unauthenticated,
    /// There was a session but it ran out (idle or absolute expiry, or the account changed).
    #[error("the session has expired")]
    SessionExpired,
    /// The role may not do this.
    #[error("the role may not do this")]
    Forbidden,
    /// The CSRF token was missing or did not match the session's.
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// Wrong username or password (deliberately the same answer for both).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Too many failed logins for this account or address.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    Throttled {
        /// Seconds until a login may be tried again.
        retry_after_secs: u64,
    },
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// The request itself is wrong (missing or malformed argument).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The browser could not reach the server.
    #[error("the server could not be reached: {0}")]
    Unavailable(String),
    /// The request is understood but the rules refuse it.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// The box's disk is full: new work waits for space; what was saved is intact.
    #[error("the box's disk is full")]
    DiskFull,
    /// Anything else; the cause is in the server log.
    #[error("internal error")]
    Internal,
}

/// Why the office's rules refused an action, in terms the UI translates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The kiosk or display token is missing, unknown or revoked.
    DeviceToken,
    /// Nobody waits for this counter.
    QueueEmpty,
    /// The counter is closed.
    CounterClosed,
    /// The counter still has a ticket called or in service.
    CounterBusy,
    /// Another staff member works at the counter today (their name).
    CounterHeld(String),
    /// No more ticket numbers today for this lane.
    NoMoreNumbers,
    /// The ticket or application is not in a state that allows this (current state code).
    WrongState(String),
    /// Form fields with problems: (field code, problem code, detail).
    Fields(Vec<(String, String, String)>),
    /// Checklist items not met (1-based numbers).
    RequirementsMissing(Vec<usize>),
    /// A return needs a written reason for each item.
    ReturnReasons,
    /// The application can no longer be edited (status code).
    Locked(String),
    /// The power of attorney does not cover it (detail).
    PowerOfAttorney(String),
    /// Something the step needs is missing (detail in English for the log, code for the UI).
    Missing(String),
    /// An upload was refused (problem code).
    Upload(String),
    /// The box has no office yet.
    NoOffice,
    /// A device could not do it, or there is none for the caller (device problem code).
    Device(String),
    /// The record's identity or status fields wait for the regency admin's decision (dotted
    /// field paths).
    AwaitingDecision(Vec<String>),
}

impl ApiError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthenticated | ApiError::SessionExpired | ApiError::InvalidCredentials => 401,
            ApiError::Forbidden | ApiError::Csrf => 403,
            ApiError::Throttled { .. } => 429,
            ApiError::NotFound => 404,
            ApiError::BadRequest(_) => 400,
            ApiError::Unavailable(_) => 503,
            ApiError::Refused(Refusal::DeviceToken) => 403,
            ApiError::Refused(_) => 409,
            ApiError::DiskFull => 507,
            ApiError::Internal => 500,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(m) => ApiError::Unavailable(m),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => ApiError::BadRequest(m),
            _ => ApiError::Internal,
        }
    }
}
