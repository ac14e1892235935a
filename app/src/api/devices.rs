//! The devices' server functions: the devices page (configured devices, their state, test
//! actions, which counter uses which), printing and scanning at the counter, and biometric
//! capture (on the counter PC or on the box).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::ApiError;
use crate::wire::*;

/// The devices page.
#[server(endpoint = "perangkat", prefix = "/api", input = GetUrl)]
pub async fn get_devices() -> Result<DevicesView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ManageDevices, |backend, _user| async move { backend.get_devices().await })
        .await
}

/// Adds a device by hand.
#[server(endpoint = "perangkat/tambah", prefix = "/api", input = leptos::server_fn::codec::Json)]
pub async fn add_device(csrf: String, form: DeviceForm) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.add_device(&user, form).await
    })
    .await
}

/// Asks a device how it is now.
#[server(endpoint = "perangkat/periksa", prefix = "/api")]
pub async fn check_device(csrf: String, id: String) -> Result<DeviceView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, _user| async move {
        backend.check_device(&id).await
    })
    .await
}

/// Gives a device to a counter (empty: the whole office).
#[server(endpoint = "perangkat/loket", prefix = "/api")]
pub async fn assign_device(csrf: String, id: String, counter: String) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.assign_device(&user, &id, &counter).await
    })
    .await
}

/// Gives a device a new name.
#[server(endpoint = "perangkat/nama", prefix = "/api")]
pub async fn rename_device(csrf: String, id: String, name: String) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.rename_device(&user, &id, &name).await
    })
    .await
}

/// Takes a device out of service; answers how many unfinished print jobs were stopped.
#[server(endpoint = "perangkat/lepas", prefix = "/api")]
pub async fn remove_device(csrf: String, id: String) -> Result<u32, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.remove_device(&user, &id).await
    })
    .await
}

/// Accepts the identity a device answers with now (after a legitimate replacement).
#[server(endpoint = "perangkat/identitas", prefix = "/api")]
pub async fn accept_device_identity(csrf: String, id: String) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.accept_device_identity(&user, &id).await
    })
    .await
}

/// Test print, test scan or test capture.
#[server(endpoint = "perangkat/uji", prefix = "/api")]
pub async fn test_device(csrf: String, id: String) -> Result<TestOutcome, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, user| async move {
        backend.test_device(&user, &id).await
    })
    .await
}

/// Looks for devices on the network (mDNS) and biometric services on the box.
#[server(endpoint = "perangkat/cari", prefix = "/api")]
pub async fn discover_devices(csrf: String) -> Result<DiscoveryView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageDevices, csrf, |backend, _user| async move {
        backend.discover_devices().await
    })
    .await
}

/// Sends an application's receipt or rejection slip to the caller's counter printer.
#[server(endpoint = "cetak", prefix = "/api")]
pub async fn print_printout(csrf: String, id: String, printout: Printout) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ViewApplications, csrf, |backend, user| async move {
        backend.print_printout(&user, &id, printout).await
    })
    .await
}

/// The print jobs of an application.
#[server(endpoint = "cetak/status", prefix = "/api", input = GetUrl)]
pub async fn print_jobs(id: String) -> Result<Vec<PrintJobView>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewApplications, |backend, _user| async move { backend.print_jobs(&id).await })
        .await
}

/// The scans of an application, newest first.
#[server(endpoint = "pindai/status", prefix = "/api", input = GetUrl)]
pub async fn scan_jobs(id: String) -> Result<Vec<ScanJobView>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewApplications, |backend, _user| async move { backend.scan_jobs(&id).await })
        .await
}

/// Prints a job's document again, as a new job.
#[server(endpoint = "cetak/ulang", prefix = "/api")]
pub async fn reprint(csrf: String, job: String) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ViewApplications, csrf, |backend, user| async move {
        backend.reprint(&user, &job).await
    })
    .await
}

/// Scans a checklist line's document on the caller's counter scanner; answers the pages scanned.
#[server(endpoint = "permohonan/pindai", prefix = "/api")]
pub async fn scan_requirement(csrf: String, id: String, item: usize) -> Result<u32, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.scan_requirement(&user, &id, item).await
    })
    .await
}

/// Records fingers or eyes that cannot be captured (`modality` `Finger` with positions such as
/// `left_thumb`, or `Iris` with `left` and `right`) with the reason, in place of their images;
/// answers how many were recorded.
#[server(endpoint = "permohonan/pengecualian-biometrik", prefix = "/api", input = leptos::server_fn::codec::Json)]
pub async fn record_capture_exceptions(
    csrf: String,
    id: String,
    modality: String,
    parts: Vec<String>,
    reason: simpul_sbi::ExceptionReason,
) -> Result<u32, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.record_capture_exceptions(&user, &id, &modality, parts, reason).await
    })
    .await
}

/// Opens a capture transaction for application `id`: a device on the counter PC signs it into
/// each capture, and the box takes captures handed over only under a transaction it issued for
/// that record, to that staff member, not long ago.
#[server(endpoint = "permohonan/biometrik-mulai", prefix = "/api", input = leptos::server_fn::codec::Json)]
pub async fn begin_capture(csrf: String, id: String) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.begin_capture(&user, &id).await
    })
    .await
}

/// Where the page reads the live preview of a biometric device plugged into the box
/// (`{BOX_PREVIEW_PATH}/{modality}?detik=N`, `multipart/x-mixed-replace`).
pub const BOX_PREVIEW_PATH: &str = "/perangkat/pratinjau";

/// Captures on the biometric device plugged into the box itself (not the counter PC): the box
/// talks to it, checks what it gave and records it; answers how many captures were recorded.
#[server(endpoint = "permohonan/biometrik-kotak", prefix = "/api", input = leptos::server_fn::codec::Json)]
pub async fn capture_on_box(csrf: String, id: String, modality: String, missing: Vec<String>) -> Result<u32, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.capture_on_box(&user, &id, &modality, missing).await
    })
    .await
}

/// Hands the signed captures a biometric device gave the browser to the box, which checks each
/// signature and records the images; answers how many were recorded.
#[server(endpoint = "permohonan/biometrik", prefix = "/api", input = leptos::server_fn::codec::Json)]
pub async fn hand_captures(
    csrf: String,
    id: String,
    modality: String,
    transaction: String,
    blocks: Vec<String>,
) -> Result<u32, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::TakeApplications, csrf, |backend, user| async move {
        backend.hand_captures(&user, &id, &modality, &transaction, blocks).await
    })
    .await
}
