//! The print queue: jobs are rows (see `store::devices`); this worker sends what is due to its
//! printer, follows it to the end, and retries with backoff while the printer is off, out of
//! paper or jammed. A job's document stays in its row whatever happens, so a device error
//! never loses it; a job that cannot succeed (a format the printer does not take) fails for
//! good and a re-print is an explicit action.

use std::sync::Arc;
use std::time::Duration;

use simpul_hardware::escpos::{EscPosPrinter, Ticket, ticket_bytes};
use simpul_hardware::ipp::JobState;
use simpul_hardware::{Attention, DeviceError, DeviceKind};
use time::OffsetDateTime;

use crate::state::Core;
use crate::store::devices::{self, Device, Job, JobStatus, Outcome};

/// Longest a device may take for one step.
pub const DEVICE_TIMEOUT: Duration = Duration::from_secs(8);
/// Longest rasterising a PDF for a printer without PDF may take.
pub const RASTER_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries before a job is given up.
pub const MAX_ATTEMPTS: u32 = 30;

/// Delay before the next try after `attempts` failed ones: 5 s doubling, at most 5 minutes.
pub fn backoff(attempts: u32) -> time::Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.min(6)).min(300);
    time::Duration::seconds(secs as i64)
}

/// Runs the queue until the server stops.
pub async fn run(core: Arc<Core>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = tick(&core).await {
            tracing::warn!(error = %e, "print queue");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn tick(core: &Core) -> Result<(), crate::db::StoreError> {
    let now = OffsetDateTime::now_utc();
    let due = core.db.call(move |c| devices::due(c, now, 20)).await?;
    for job in due {
        let (device_id, job_id) = (job.device_id.clone(), job.id.clone());
        let (device, document) =
            core.db.call(move |c| Ok((devices::get(c, &device_id)?, devices::document(c, &job_id)?))).await?;
        let outcome = match device {
            Some(device) => attempt(&device, &job, &document).await,
            None => Outcome::Failed("no_device".into()),
        };
        let id = job.id.clone();
        let logged = outcome.clone();
        core.db.call(move |c| devices::record(c, &id, &outcome, OffsetDateTime::now_utc())).await?;
        match logged {
            Outcome::Done => tracing::info!(job = %job.id, "printed"),
            Outcome::Retry { error, .. } => tracing::info!(job = %job.id, %error, "printer not ready; will retry"),
            Outcome::Failed(error) => tracing::warn!(job = %job.id, %error, "print job failed"),
            Outcome::Waiting { reason: Some(reason), .. } => {
                tracing::info!(job = %job.id, %reason, "job held up at the printer")
            }
            Outcome::Sent { .. } | Outcome::Waiting { .. } => {}
        }
    }
    Ok(())
}

fn failed(job: &Job, e: &DeviceError) -> Outcome {
    retry_or_fail(job, e.code(), e.retryable())
}

/// Another try later with `error` as the reason, unless retrying cannot help or the job has
/// had its tries.
fn retry_or_fail(job: &Job, error: String, retryable: bool) -> Outcome {
    if !retryable || job.attempts + 1 >= MAX_ATTEMPTS {
        Outcome::Failed(error)
    } else {
        Outcome::Retry { error, next: OffsetDateTime::now_utc() + backoff(job.attempts) }
    }
}

/// One step of a job on its printer.
async fn attempt(device: &Device, job: &Job, document: &[u8]) -> Outcome {
    match device.kind {
        DeviceKind::DocumentPrinter => ipp_step(device, job, document).await,
        DeviceKind::TicketPrinter => match EscPosPrinter::new(&device.address, DEVICE_TIMEOUT).print(document).await {
            Ok(_) => Outcome::Done,
            Err(e) => failed(job, &e),
        },
        DeviceKind::Scanner | DeviceKind::Biometric => Outcome::Failed("not_a_printer".into()),
    }
}

async fn ipp_step(device: &Device, job: &Job, document: &[u8]) -> Outcome {
    let printer = match crate::devices::ipp_printer(device) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e.code()),
    };
    let now = OffsetDateTime::now_utc();
    if job.status == JobStatus::Sent
        && let Some(remote) = job.remote_job
    {
        return match printer.job(remote).await {
            Ok(s) if s.state == JobState::Completed => Outcome::Done,
            Ok(s) if s.state.is_final() => {
                // Aborted or cancelled at the printer: say why if the printer knows, and send
                // the document again once it is ready.
                let reason = match printer.info().await {
                    Ok(info) => info.attention().first().map_or_else(|| "aborted".to_string(), |a| a.code()),
                    Err(e) => e.code(),
                };
                retry_or_fail(job, reason, true)
            }
            Ok(s) => {
                // Still at the printer. If it stopped (out of paper, jammed, cover open), say
                // why; the job resumes there once someone fixes it.
                let reason = match printer.info().await {
                    Ok(info) => info.attention().first().map(Attention::code),
                    Err(e) => Some(e.code()),
                };
                let reason = reason.or_else(|| (s.state == JobState::Stopped).then(|| "stopped".to_string()));
                let wait = if reason.is_some() { 5 } else { 2 };
                Outcome::Waiting { next: now + time::Duration::seconds(wait), reason }
            }
            // The printer does not answer about a job it accepted: it may still print it, so
            // it is not sent again (that would print twice); staff see why and can re-print.
            Err(e @ (DeviceError::Unreachable | DeviceError::Timeout | DeviceError::Dropped)) => {
                Outcome::Waiting { next: now + backoff(job.attempts), reason: Some(e.code()) }
            }
            Err(e) => failed(job, &e),
        };
    }
    let info = match printer.info().await {
        Ok(info) => info,
        Err(e) => return failed(job, &e),
    };
    if crate::devices::impostor(device.identity.as_deref(), info.uuid.as_deref()) {
        // Another printer answers at this address: nothing goes to it until an installer
        // accepts it on the devices page.
        return retry_or_fail(job, "identity".into(), true);
    }
    if let Some(reason) = info.attention().into_iter().next() {
        return failed(job, &DeviceError::NeedsAttention(reason));
    }
    // A printer that takes no PDF gets PWG raster, made again on each try (it is cheap).
    let (bytes, format): (std::borrow::Cow<'_, [u8]>, &str) = if info.accepts(&job.format) {
        (document.into(), job.format.as_str())
    } else if job.format == "application/pdf"
        && let Some(dpi) = info.raster_fallback()
    {
        match simpul_hardware::pwg::pdf_to_pwg(document, dpi, RASTER_TIMEOUT).await {
            Ok(raster) => (raster.into(), simpul_hardware::pwg::FORMAT),
            Err(e) => return failed(job, &e),
        }
    } else {
        return Outcome::Failed("unsupported".into());
    };
    match printer.print(&bytes, format, &job.title, &job.device_id).await {
        Ok(remote) => Outcome::Sent { remote, next: now + time::Duration::seconds(1) },
        Err(e) => failed(job, &e),
    }
}

/// Prints a queue ticket now on the office's ticket printer. The ticket counts as issued only
/// if this succeeds.
pub async fn print_ticket(device: &Device, ticket: &Ticket) -> Result<(), DeviceError> {
    EscPosPrinter::new(&device.address, DEVICE_TIMEOUT).print(&ticket_bytes(ticket)).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_at_five_minutes() {
        assert_eq!(backoff(0), time::Duration::seconds(5));
        assert_eq!(backoff(1), time::Duration::seconds(10));
        assert_eq!(backoff(5), time::Duration::seconds(160));
        assert_eq!(backoff(6), time::Duration::seconds(300));
        assert_eq!(backoff(40), time::Duration::seconds(300));
    }
}
