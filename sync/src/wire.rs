//! The HTTPS contract between an office box and its regency hub, beside the message format of
//! [`crate::protocol`]: the paths, headers and limits both sides name, and the enrollment
//! messages. The box's client and the hub's listener take them from here, so neither imports
//! the other.

use serde::{Deserialize, Serialize};

/// Paths on the hub's sync listener.
pub mod path {
    /// Health report (no certificate needed).
    pub const HEALTH: &str = "/healthz";
    /// The hub's CA certificate, PEM (no certificate needed).
    pub const CA: &str = "/sync/v1/ca";
    /// Enrollment with a one-time token (no certificate needed).
    pub const ENROLL: &str = "/sync/v1/enroll";
    /// One exchange of a session (body and answer in the [`crate::protocol`] format).
    pub const EXCHANGE: &str = "/sync/v1/exchange";
    /// The route of one file: how much the hub holds (GET), a chunk of an upload (PUT).
    pub const BLOB_ROUTE: &str = "/sync/v1/blob/{sha}";
    /// The route of a chunk of a file the hub hands down.
    pub const BLOB_CONTENT_ROUTE: &str = "/sync/v1/blob/{sha}/content";
    /// The files the box's office's records point at that the hub lacks.
    pub const BLOBS_MISSING: &str = "/sync/v1/blobs/missing";

    /// The path of one file.
    pub fn blob(sha: &str) -> String {
        BLOB_ROUTE.replace("{sha}", sha)
    }

    /// The path of the content of one file.
    pub fn blob_content(sha: &str) -> String {
        BLOB_CONTENT_ROUTE.replace("{sha}", sha)
    }
}

/// Headers of the contract.
pub mod header {
    /// On an exchange's answer: the hub lacks files the office's records point at; the value
    /// marks the set (log epoch . count . highest sequence).
    pub const FILES_MISSING: &str = "x-simpul-files-missing";
    /// On an exchange: a box on a slow link asks for smaller answers (bytes of changes).
    pub const BUDGET: &str = "x-simpul-budget";
    /// On a refusal for a gap, or a chunk at the wrong offset: how far the other side holds.
    pub const HELD: &str = "x-simpul-held";
    /// On a refusal for a gap: the hub's log timeline.
    pub const EPOCH: &str = "x-simpul-epoch";
    /// On a refusal for a gap: how far the hub holds its own log.
    pub const HUB_HELD: &str = "x-simpul-hub-held";
    /// On a chunk of a file handed down: the file's whole size.
    pub const SIZE: &str = "x-simpul-size";
}

/// Content type of an exchange's body and answer.
pub const CONTENT_TYPE: &str = "application/x-simpul-sync";

/// Largest file accepted (the upload limit of the counter, plus room), and fetched by a box.
pub const MAX_BLOB_BYTES: u64 = 10 * 1024 * 1024 + 64 * 1024;

/// Most digests listed in one answer about missing files.
pub const MISSING_LIST_LIMIT: u32 = 500;

/// Size of one chunk of a file the hub hands down.
pub const DOWNLOAD_CHUNK_BYTES: usize = 1024 * 1024;

/// The smallest chunk a box may ask for.
pub const MIN_CHUNK_BYTES: usize = 16 * 1024;

/// Largest enrollment token and certificate request the hub reads.
pub const MAX_TOKEN_BYTES: usize = 200;
/// Largest certificate request (PEM) the hub reads.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// An enrollment request.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time token.
    pub token: String,
    /// The box's CSR (PEM).
    pub csr: String,
    /// The public half of the box's receipt key (base64url Ed25519), so that the hub can check
    /// the receipts the box prints. Absent from older boxes.
    #[serde(default)]
    pub receipt_key: Option<String>,
}

/// What an enrolled box receives.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// Office code the certificate is for.
    pub office: String,
    /// Office name.
    pub office_name: String,
    /// The box certificate (PEM).
    pub certificate: String,
    /// The hub CA (PEM).
    pub ca: String,
    /// The box's numbering station among its office's boxes (absent from older hubs: 1).
    #[serde(default = "first_station")]
    pub station: u32,
}

fn first_station() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_fill_their_routes() {
        assert_eq!(path::blob("ab12"), "/sync/v1/blob/ab12");
        assert_eq!(path::blob_content("ab12"), "/sync/v1/blob/ab12/content");
    }
}
