//! The server side of the UI (feature `ssr` only): the [`Backend`] the server crate implements,
//! and the helpers every server function uses to reach it and check the caller.

use std::future::Future;
use std::sync::Arc;

use axum::http::request::Parts;
use leptos::prelude::*;
use simpul_domain::auth::Permission;

use crate::api::{
    ApplicantForm, ApplicationRow, ApplicationView, BoxView, ConflictView, CounterDesk, DashboardView, DeviceForm,
    DeviceView, DevicesView, DiscoveryView, DisplayView, IntakeForm, IntakeView, KioskView, LinkView, PrintJobView,
    Printout, ServiceSummary, ServiceView, SessionInfo, StaffView, StepForm, SyncView, SystemView, TestOutcome,
    TicketView, UserView,
};
use crate::error::ApiError;

/// What the UI needs from the server. Implemented by the server crate, which owns storage,
/// sessions and the hub link; provided to server functions through Leptos context.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Session, CSRF token and identity for this request.
    async fn session_info(&self, parts: &Parts) -> Result<SessionInfo, ApiError>;
    /// Checks the CSRF token and the credentials, then starts a new session.
    async fn login(&self, parts: &Parts, csrf: &str, username: &str, password: &str) -> Result<UserView, ApiError>;
    /// Checks the CSRF token and ends the session.
    async fn logout(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError>;
    /// Checks the CSRF token and the caller's current password, then sets the new one; every
    /// session of the account ends, this one too.
    async fn change_password(
        &self,
        parts: &Parts,
        csrf: &str,
        current: &str,
        new_password: &str,
        repeat: &str,
    ) -> Result<(), ApiError>;
    /// The caller, if logged in and allowed `permission`.
    async fn authorize(&self, parts: &Parts, permission: Permission) -> Result<UserView, ApiError>;
    /// The hub link.
    async fn link(&self) -> LinkView;
    /// The catalog.
    async fn catalog_list(&self) -> Result<Vec<ServiceSummary>, ApiError>;
    /// One catalog entry.
    async fn catalog_detail(&self, id: uuid::Uuid) -> Result<ServiceView, ApiError>;
    /// The staff accounts.
    async fn staff_list(&self) -> Result<Vec<StaffView>, ApiError>;
    /// The system page.
    async fn system_info(&self) -> Result<SystemView, ApiError>;
    /// Checks the CSRF token of a state-changing call.
    async fn check_csrf(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError>;

    /// The kiosk's services, for a valid kiosk token.
    async fn kiosk_view(&self, parts: &Parts, token: &str) -> Result<KioskView, ApiError>;
    /// Issues a ticket at the kiosk.
    async fn kiosk_take(
        &self,
        parts: &Parts,
        token: &str,
        service_id: &str,
        lane: &str,
        client_id: &str,
    ) -> Result<TicketView, ApiError>;
    /// The kiosk reports whether the ticket printed.
    async fn kiosk_printed(
        &self,
        parts: &Parts,
        token: &str,
        ticket_id: &str,
        ok: bool,
    ) -> Result<TicketView, ApiError>;
    /// The display, for a valid display token.
    async fn display_view(&self, parts: &Parts, token: &str) -> Result<DisplayView, ApiError>;
    /// The counter desk.
    async fn counter_desk(&self, user: &UserView) -> Result<CounterDesk, ApiError>;
    /// Opens or closes a counter.
    async fn counter_open(&self, user: &UserView, counter: &str, open: bool) -> Result<(), ApiError>;
    /// Calls the next ticket.
    async fn counter_call(&self, user: &UserView, counter: &str) -> Result<TicketView, ApiError>;
    /// Calls a no-show ticket again to a counter.
    async fn counter_call_again(&self, user: &UserView, counter: &str, ticket: &str) -> Result<TicketView, ApiError>;
    /// Acts on a ticket.
    async fn counter_act(
        &self,
        user: &UserView,
        ticket: &str,
        action: &str,
        to_counter: Option<&str>,
        to_service: Option<&str>,
    ) -> Result<TicketView, ApiError>;

    /// Applications by list name.
    async fn applications(&self, user: &UserView, list: &str) -> Result<Vec<ApplicationRow>, ApiError>;
    /// Applications found by NIK, application number or part of the applicant's name.
    async fn search_applications(&self, typed: &str) -> Result<Vec<ApplicationRow>, ApiError>;
    /// One application, with the steps `user` may take.
    async fn application(&self, user: &UserView, id: &str) -> Result<ApplicationView, ApiError>;
    /// The intake page.
    async fn intake(&self, ticket: Option<&str>) -> Result<IntakeView, ApiError>;
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
    async fn dashboard(&self, user: &UserView) -> Result<DashboardView, ApiError>;
    /// The box's sync state.
    async fn sync_status(&self) -> Result<SyncView, ApiError>;
    /// Starts a sync session now.
    async fn sync_now(&self) -> Result<(), ApiError>;
    /// The open conflicts (hub).
    async fn conflicts(&self) -> Result<Vec<ConflictView>, ApiError>;
    /// Settles a conflict: keeps candidate `keep` (from 0) as written, or else writes the
    /// corrected value (empty: leave the field empty); refused when the candidates changed since
    /// revision `seen`.
    async fn resolve_conflict(
        &self,
        user: &UserView,
        id: i64,
        keep: Option<u32>,
        corrected: &str,
        seen: &str,
        reason: &str,
    ) -> Result<(), ApiError>;
    /// Boxes enrolled with this hub.
    async fn enrolled_boxes(&self) -> Result<Vec<BoxView>, ApiError>;
    /// A one-time enrollment token for an office.
    async fn create_enroll_token(&self, user: &UserView, office: &str, hours: u32) -> Result<String, ApiError>;
    /// Revokes one box of an office, named by its listed fingerprint.
    async fn revoke_box(&self, user: &UserView, office: &str, fingerprint: &str) -> Result<(), ApiError>;
    /// The devices page.
    async fn devices(&self) -> Result<DevicesView, ApiError>;
    /// Adds a device by hand.
    async fn add_device(&self, user: &UserView, form: DeviceForm) -> Result<String, ApiError>;
    /// Asks a device how it is now and keeps the answer.
    async fn check_device(&self, id: &str) -> Result<DeviceView, ApiError>;
    /// Gives a device to a counter (empty: the whole office).
    async fn assign_device(&self, user: &UserView, id: &str, counter: &str) -> Result<(), ApiError>;
    /// Renames a device.
    async fn rename_device(&self, user: &UserView, id: &str, name: &str) -> Result<(), ApiError>;
    /// Takes a device out of service; answers how many unfinished jobs were stopped.
    async fn remove_device(&self, user: &UserView, id: &str) -> Result<u32, ApiError>;
    /// Accepts the identity a device answers with now.
    async fn accept_identity(&self, user: &UserView, id: &str) -> Result<(), ApiError>;
    /// Test print, scan or capture.
    async fn test_device(&self, user: &UserView, id: &str) -> Result<TestOutcome, ApiError>;
    /// Devices found on the network and on the box.
    async fn discover_devices(&self) -> Result<DiscoveryView, ApiError>;
    /// Queues an application's printout on the caller's counter printer.
    async fn print_printout(&self, user: &UserView, id: &str, printout: Printout) -> Result<String, ApiError>;
    /// The print jobs of an application.
    async fn print_jobs(&self, id: &str) -> Result<Vec<PrintJobView>, ApiError>;
    /// The scans of an application.
    async fn scan_jobs(&self, id: &str) -> Result<Vec<crate::api::ScanJobView>, ApiError>;
    /// Prints a job's document again.
    async fn reprint(&self, user: &UserView, job: &str) -> Result<String, ApiError>;
    /// Scans a checklist line's document on the caller's counter scanner.
    async fn scan_requirement(&self, user: &UserView, id: &str, item: usize) -> Result<u32, ApiError>;
    /// Records signed captures a biometric device gave the browser.
    async fn hand_captures(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        transaction: &str,
        blocks: Vec<String>,
    ) -> Result<u32, ApiError>;
    /// Opens a capture transaction for an application (the id a device signs into captures
    /// the browser hands over).
    async fn begin_capture(&self, user: &UserView, id: &str) -> Result<String, ApiError>;
    /// Captures on the biometric device plugged into the box (the caller's counter's, else
    /// the office's) and records what it gave, leaving out the `missing` fingers.
    async fn capture_on_box(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        missing: Vec<String>,
    ) -> Result<u32, ApiError>;
    /// Records fingers or eyes (of `modality`, `Finger` or `Iris`) that cannot be captured,
    /// with the reason.
    async fn record_capture_exceptions(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        parts: Vec<String>,
        reason: simpul_domain::sbi::ExceptionReason,
    ) -> Result<u32, ApiError>;
}

/// The backend as shared through context.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend and the request parts of the current server-function call.
pub fn context() -> Result<(SharedBackend, Parts), ApiError> {
    let backend = use_context::<SharedBackend>().ok_or(ApiError::Internal)?;
    let parts = use_context::<Parts>().ok_or(ApiError::Internal)?;
    Ok((backend, parts))
}

/// Runs a server function body and gives a failure its HTTP status.
pub async fn respond<T>(body: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    // Read the context before awaiting: the reactive owner may be gone once the body finishes
    // (a client that disconnected mid-request), and a disposed owner must not cost a panic.
    let response = use_context::<leptos_axum::ResponseOptions>();
    let result = body.await;
    if let Err(e) = &result
        && let Some(response) = response
        && let Ok(status) = axum::http::StatusCode::from_u16(e.status())
    {
        response.set_status(status);
    }
    result
}

/// Checks that the caller holds `permission`, then runs `body` with the backend and the caller.
pub async fn guarded<T, F, Fut>(permission: Permission, body: F) -> Result<T, ApiError>
where
    F: FnOnce(SharedBackend, UserView) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    respond(async {
        let (backend, parts) = context()?;
        let user = backend.authorize(&parts, permission).await?;
        body(backend, user).await
    })
    .await
}

/// Like [`guarded`], and checks the CSRF token first (for calls that change state).
pub async fn guarded_csrf<T, F, Fut>(permission: Permission, csrf: String, body: F) -> Result<T, ApiError>
where
    F: FnOnce(SharedBackend, UserView) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    respond(async {
        let (backend, parts) = context()?;
        let user = backend.authorize(&parts, permission).await?;
        backend.check_csrf(&parts, &csrf).await?;
        body(backend, user).await
    })
    .await
}
