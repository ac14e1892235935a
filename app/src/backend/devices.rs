//! The server's side of the devices area of the UI contract.

use crate::error::ApiError;
use crate::wire::*;

/// Devices: the devices page, printing and scanning at the counter, biometric capture.
#[async_trait::async_trait]
pub trait DeviceBackend: Send + Sync + 'static {
    /// The devices page.
    async fn get_devices(&self) -> Result<DevicesView, ApiError>;
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
    async fn accept_device_identity(&self, user: &UserView, id: &str) -> Result<(), ApiError>;
    /// Test print, scan or capture.
    async fn test_device(&self, user: &UserView, id: &str) -> Result<TestOutcome, ApiError>;
    /// Devices found on the network and on the box.
    async fn discover_devices(&self) -> Result<DiscoveryView, ApiError>;
    /// Queues an application's printout on the caller's counter printer.
    async fn print_printout(&self, user: &UserView, id: &str, printout: Printout) -> Result<String, ApiError>;
    /// The print jobs of an application.
    async fn print_jobs(&self, id: &str) -> Result<Vec<PrintJobView>, ApiError>;
    /// The scans of an application.
    async fn scan_jobs(&self, id: &str) -> Result<Vec<ScanJobView>, ApiError>;
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
        reason: simpul_sbi::ExceptionReason,
    ) -> Result<u32, ApiError>;
}
