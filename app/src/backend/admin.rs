//! The server's side of the admin area of the UI contract.

use crate::error::ApiError;
use crate::wire::*;

/// The pages that show how the box is set up: catalog, staff, system.
#[async_trait::async_trait]
pub trait AdminBackend: Send + Sync + 'static {
    /// The catalog.
    async fn catalog_list(&self) -> Result<Vec<ServiceSummary>, ApiError>;
    /// One catalog entry.
    async fn catalog_detail(&self, id: uuid::Uuid) -> Result<ServiceView, ApiError>;
    /// The staff accounts.
    async fn staff_list(&self) -> Result<Vec<StaffView>, ApiError>;
    /// The system page.
    async fn system_info(&self) -> Result<SystemView, ApiError>;
}
