//! The server's side of the applications area of the UI contract.

use crate::error::ApiError;
use crate::wire::*;

/// Applications: lists, search, one file, intake, the lifecycle steps and the dashboard.
#[async_trait::async_trait]
pub trait ApplicationBackend: Send + Sync + 'static {
    /// Applications by list name.
    async fn list_applications(&self, user: &UserView, list: &str) -> Result<Vec<ApplicationRow>, ApiError>;
    /// Applications found by NIK, application number or part of the applicant's name.
    async fn search_applications(&self, user: &UserView, typed: &str) -> Result<Vec<ApplicationRow>, ApiError>;
    /// One application, with the steps `user` may take.
    async fn get_application(&self, user: &UserView, id: &str) -> Result<ApplicationView, ApiError>;
    /// The intake page.
    async fn get_intake(&self, ticket: Option<&str>) -> Result<IntakeView, ApiError>;
    /// Opens an application (idempotent by `client_id`).
    async fn open_application(&self, user: &UserView, client_id: &str, form: IntakeForm) -> Result<String, ApiError>;
    /// Corrects the applicant's data.
    async fn update_applicant(&self, user: &UserView, id: &str, applicant: ApplicantForm) -> Result<(), ApiError>;
    /// Confirms a requirement.
    async fn confirm_requirement(
        &self,
        user: &UserView,
        id: &str,
        item: usize,
        confirmed: bool,
    ) -> Result<(), ApiError>;
    /// A lifecycle step (idempotent by `client_id`); checks the step's own permission.
    async fn application_step(
        &self,
        user: &UserView,
        client_id: &str,
        id: &str,
        action: simpul_domain::application::Action,
        form: StepForm,
    ) -> Result<simpul_domain::application::Status, ApiError>;
    /// The dashboard.
    async fn get_dashboard(&self, user: &UserView) -> Result<DashboardView, ApiError>;
}
