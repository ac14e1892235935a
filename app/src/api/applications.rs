//! The applications' server functions: lists and search, one application's file, intake, the
//! lifecycle steps and the dashboard. Files (attachments, photos) go through plain multipart
//! form posts to `/berkas/...`, and printouts come from `/dokumen/...` (see the server's `http`).

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use simpul_domain::application::{Action, Status};

use crate::error::ApiError;
use crate::wire::*;

/// Applications by list name: "open", "to_verify", "ready", "returned", "closed", "mine", "all".
#[server(endpoint = "permohonan", prefix = "/api", input = GetUrl)]
pub async fn list_applications(list: String) -> Result<Vec<ApplicationRow>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewApplications, |backend, user| async move {
        backend.list_applications(&user, &list).await
    })
    .await
}

/// Applications found by NIK, application number or part of the applicant's name. A POST: what
/// is typed is personal data and never goes into a URL.
#[server(endpoint = "permohonan/cari", prefix = "/api")]
pub async fn search_applications(q: String) -> Result<Vec<ApplicationRow>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewApplications, |backend, user| async move {
        backend.search_applications(&user, &q).await
    })
    .await
}

/// One application.
#[server(endpoint = "permohonan/detail", prefix = "/api", input = GetUrl)]
pub async fn get_application(id: String) -> Result<ApplicationView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewApplications, |backend, user| async move {
        backend.get_application(&user, &id).await
    })
    .await
}

/// What the intake page needs.
#[server(endpoint = "permohonan/intake", prefix = "/api", input = GetUrl)]
pub async fn get_intake(ticket: Option<String>) -> Result<IntakeView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::TakeApplications, |backend, _user| async move {
        backend.get_intake(ticket.as_deref()).await
    })
    .await
}

/// Opens an application; returns its id. A retry with the same `client_id` returns the same id.
#[server(endpoint = "permohonan/buka", prefix = "/api", input = Json)]
pub async fn open_application(csrf: String, client_id: String, form: IntakeForm) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.open_application(&user, &client_id, form).await
    })
    .await
}

/// Corrects the applicant's data while the application is a draft or returned.
#[server(endpoint = "permohonan/pemohon", prefix = "/api", input = Json)]
pub async fn update_applicant(csrf: String, id: String, applicant: ApplicantForm) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.update_applicant(&user, &id, applicant).await
    })
    .await
}

/// Ticks (or unticks) a requirement that is confirmed by looking, not by a file.
#[server(endpoint = "permohonan/konfirmasi", prefix = "/api")]
pub async fn confirm_requirement(csrf: String, id: String, item: usize, confirmed: bool) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.confirm_requirement(&user, &id, item, confirmed).await
    })
    .await
}

/// Takes a lifecycle step. The permission depends on the step and is checked by the backend.
/// A retry with the same `client_id` answers as the first call did.
#[server(endpoint = "permohonan/langkah", prefix = "/api", input = Json)]
pub async fn application_step(
    csrf: String,
    client_id: String,
    id: String,
    action: Action,
    form: StepForm,
) -> Result<Status, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ViewApplications, csrf, |backend, user| async move {
        backend.application_step(&user, &client_id, &id, action, form).await
    })
    .await
}

/// The dashboard of the caller's role.
#[server(endpoint = "dasbor", prefix = "/api", input = GetUrl)]
pub async fn get_dashboard() -> Result<DashboardView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(
        Permission::ViewDashboard,
        |backend, user| async move { backend.get_dashboard(&user).await },
    )
    .await
}
