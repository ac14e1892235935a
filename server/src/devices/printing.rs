//! The print queue: jobs are rows (see `store::devices`); this worker sends what is due to its
//! printer, follows it to the end, and retries with backoff while the printer is off, out of
//! paper or jammed. A job's document stays in its row whatever happens, so a device error
//! never loses it; a job that cannot succeed (a format the printer does not take) fails for
//! good and a re-print is an explicit action.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use simpul_hardware::DeviceError;
use simpul_hardware::driver::{Holdup, PrintJob, Printer, Progress, Submitted};
use simpul_hardware::escpos::Ticket;
use time::OffsetDateTime;

use simpul_store::db::Db;
use simpul_store::devices::{self, Device, Job, JobStatus, Outcome};

/// Tries before a job is given up.
pub const MAX_ATTEMPTS: u32 = 30;

/// Delay before the next try after `attempts` failed ones: 5 s doubling, at most 5 minutes.
pub fn backoff(attempts: u32) -> time::Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.min(6)).min(300);
    time::Duration::seconds(secs as i64)
}

/// Runs the queue until the server stops.
pub async fn run(core: Arc<crate::state::Core>, stop: tokio::sync::watch::Receiver<bool>) {
    run_on(core.db.clone(), stop).await;
}

/// The printers being worked on now, each by one task; a task leaves the set when it ends,
/// however it ends.
#[derive(Clone, Default)]
struct Busy(Arc<Mutex<HashSet<String>>>);

struct Working(Busy, String);

impl Busy {
    fn take(&self, device: &str) -> Option<Working> {
        let mut set = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.insert(device.to_string()).then(|| Working(self.clone(), device.to_string()))
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.1);
    }
}

/// How long a stopping queue waits for the tries under way (a try takes a few device
/// timeouts, more while a PDF is rasterised).
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// The queue on `db`: every second, each printer with a job due gets a task that works through
/// its due jobs one at a time, unless one is still at it. Printers never wait for each other: a
/// printer that is off (each try waits for its timeout) delays only its own jobs.
pub async fn run_on(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) {
    let busy = Busy::default();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while let Some(ended) = running.try_join_next() {
            if let Err(e) = ended {
                tracing::error!(error = %e, "a printer's queue task failed");
            }
        }
        let now = OffsetDateTime::now_utc();
        match db.call(move |c| devices::due_printers(c, now)).await {
            Ok(printers) => {
                for device in printers {
                    let Some(working) = busy.take(&device) else { continue };
                    let (db, stop) = (db.clone(), stop.clone());
                    running.spawn(async move {
                        if let Err(e) = work(&db, &device, &stop).await {
                            tracing::warn!(error = %e, "print queue");
                        }
                        drop(working);
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "print queue"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
    }
    // A try under way finishes and is recorded, so that a document the printer took is not
    // sent again at the next start; no new try begins.
    let drained = tokio::time::timeout(STOP_GRACE, async { while running.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("the print queue stopped with a try under way; its job is tried again at the next start");
    }
}

/// Works through `device_id`'s due jobs, one at a time, each read again just before its try
/// (a job re-printed, retired or sent meanwhile is seen as it is now), until none is due or the
/// queue stops.
async fn work(
    db: &Db,
    device_id: &str,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<(), simpul_store::db::StoreError> {
    let id = device_id.to_string();
    let device = db.call(move |c| devices::get(c, &id)).await?;
    let printer = device.as_ref().map(crate::devices::printer);
    while !*stop.borrow() {
        let id = device_id.to_string();
        let now = OffsetDateTime::now_utc();
        let Some((job, document)) = db
            .call(move |c| match devices::next_due(c, &id, now)? {
                Some(job) => {
                    let document = devices::document(c, &job.id)?;
                    Ok(Some((job, document)))
                }
                None => Ok(None),
            })
            .await?
        else {
            break;
        };
        let outcome = match &printer {
            Some(Ok(printer)) => {
                if job.status == JobStatus::Queued {
                    // Kept before a byte goes out: if the box stops before the printer's answer
                    // is recorded, the next try asks the printer first instead of printing twice.
                    let (id, at) = (job.id.clone(), OffsetDateTime::now_utc());
                    db.call(move |c| devices::begin_handover(c, &id, at)).await?;
                }
                attempt(printer.as_ref(), &job, &document).await
            }
            // Not a printer, or an address no printer can be reached at: trying again cannot help.
            Some(Err(DeviceError::Unsupported(_))) => Outcome::Failed("not_a_printer".into()),
            Some(Err(e)) => Outcome::Failed(e.code()),
            None => Outcome::Failed("no_device".into()),
        };
        let id = job.id.clone();
        let logged = outcome.clone();
        db.call(move |c| devices::record(c, &id, &outcome, OffsetDateTime::now_utc())).await?;
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
    retry_or_fail(job, e.code(), e.retryable(), false)
}

/// A hand-over that broke once the document began to go out may have delivered it.
fn may_have_arrived(e: &DeviceError) -> bool {
    matches!(e, DeviceError::AfterSending(_))
}

/// Error code of a job that may have printed and whose printer cannot tell: staff look at the
/// printer and re-print if it did not come out.
pub const UNCERTAIN: &str = "uncertain";

/// Another try later with `error` as the reason, unless retrying cannot help or the job has
/// had its tries.
fn retry_or_fail(job: &Job, error: String, retryable: bool, uncertain: bool) -> Outcome {
    if !retryable || job.attempts + 1 >= MAX_ATTEMPTS {
        // Given up on a job that may have printed: staff are told to look before re-printing.
        Outcome::Failed(if uncertain { UNCERTAIN.into() } else { error })
    } else {
        Outcome::Retry { error, next: OffsetDateTime::now_utc() + backoff(job.attempts), uncertain }
    }
}

/// One step of a job on its printer: hand it over, or follow it once the printer queued it.
async fn attempt(printer: &dyn Printer, job: &Job, document: &[u8]) -> Outcome {
    let now = OffsetDateTime::now_utc();
    if job.status == JobStatus::Sent
        && let Some(remote) = job.remote_job
    {
        return match printer.follow(remote).await {
            Ok(Progress::Completed) => Outcome::Done,
            // Aborted or cancelled at the printer: say why if the printer knows, and send the
            // document again once it is ready.
            Ok(Progress::Ended(cause)) => {
                retry_or_fail(job, cause.map_or_else(|| "aborted".to_string(), |a| a.code()), true, false)
            }
            // Still at the printer. If it stopped (out of paper, jammed, cover open), say why;
            // the job resumes there once someone fixes it.
            Ok(Progress::Printing(holdup)) => {
                let reason = holdup.map(|h| match h {
                    Holdup::Attention(a) => a.code(),
                    Holdup::Stopped => "stopped".to_string(),
                    Holdup::Unanswered(e) => e.code(),
                });
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
    let name = job.printer_name();
    if job.uncertain {
        // An earlier hand-over never got its answer: the printer may hold the document.
        match printer.find(&name, &job.device_id).await {
            Ok(Some(remote)) => return Outcome::Sent { remote, next: now + time::Duration::seconds(1) },
            Ok(None) => {}
            Err(DeviceError::Unsupported(_)) => return Outcome::Failed(UNCERTAIN.into()),
            Err(e) => return retry_or_fail(job, e.code(), e.retryable(), true),
        }
    }
    let print = PrintJob { document, format: &job.format, title: &name, user: &job.device_id };
    match printer.submit(print).await {
        Ok(Submitted::Printed) => Outcome::Done,
        Ok(Submitted::Queued(remote)) => Outcome::Sent { remote, next: now + time::Duration::seconds(1) },
        Err(e) => retry_or_fail(job, e.code(), e.retryable(), may_have_arrived(&e)),
    }
}

/// Prints a queue ticket now on the office's ticket printer. The ticket counts as issued only
/// if this succeeds.
pub async fn print_ticket(device: &Device, ticket: &Ticket) -> Result<(), DeviceError> {
    crate::devices::ticket_printer(device)?.print_ticket(ticket).await
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use simpul_hardware::driver::{Device as DeviceDriver, Pending, Report};
    use simpul_hardware::{Attention, DeviceKind};

    use super::*;

    #[test]
    fn backoff_grows_and_stops_at_five_minutes() {
        assert_eq!(backoff(0), time::Duration::seconds(5));
        assert_eq!(backoff(1), time::Duration::seconds(10));
        assert_eq!(backoff(5), time::Duration::seconds(160));
        assert_eq!(backoff(6), time::Duration::seconds(300));
        assert_eq!(backoff(40), time::Duration::seconds(300));
    }

    /// A printer that answers what the test scripted, in order, and counts what it was sent.
    #[derive(Default)]
    struct Scripted {
        submits: Mutex<VecDeque<Result<Submitted, DeviceError>>>,
        follows: Mutex<VecDeque<Result<Progress, DeviceError>>>,
        sent: Mutex<Vec<Vec<u8>>>,
    }

    impl DeviceDriver for Scripted {
        fn report(&self) -> Pending<'_, Report> {
            Box::pin(async { Ok(Report::default()) })
        }
    }

    impl Printer for Scripted {
        fn submit<'a>(&'a self, job: PrintJob<'a>) -> Pending<'a, Submitted> {
            self.sent.lock().unwrap().push(job.document.to_vec());
            let next = self.submits.lock().unwrap().pop_front().expect("an unscripted submit");
            Box::pin(async move { next })
        }

        fn follow(&self, _remote: i32) -> Pending<'_, Progress> {
            let next = self.follows.lock().unwrap().pop_front().expect("an unscripted follow");
            Box::pin(async move { next })
        }
    }

    fn job(status: JobStatus, attempts: u32) -> Job {
        Job {
            id: "j".into(),
            device_id: "p".into(),
            title: "Tanda terima".into(),
            subject: None,
            format: "application/pdf".into(),
            status,
            attempts,
            error: None,
            remote_job: (status == JobStatus::Sent).then_some(7),
            updated_at: String::new(),
            uncertain: false,
        }
    }

    /// A printer that lists its jobs: the names it holds, and whether it answers at all.
    struct Listing {
        inner: Scripted,
        holds: Vec<(String, i32)>,
        answers: bool,
    }

    impl DeviceDriver for Listing {
        fn report(&self) -> Pending<'_, Report> {
            self.inner.report()
        }
    }

    impl Printer for Listing {
        fn submit<'a>(&'a self, job: PrintJob<'a>) -> Pending<'a, Submitted> {
            self.inner.submit(job)
        }

        fn follow(&self, remote: i32) -> Pending<'_, Progress> {
            self.inner.follow(remote)
        }

        fn find<'a>(&'a self, name: &'a str, _user: &'a str) -> Pending<'a, Option<i32>> {
            let found = self.holds.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
            let answers = self.answers;
            Box::pin(async move { if answers { Ok(found) } else { Err(DeviceError::Timeout) } })
        }
    }

    #[tokio::test]
    async fn a_hand_over_cut_short_is_looked_up_at_the_printer_before_it_is_sent_again() {
        // The connection broke while the document went out: the job may be at the printer.
        let plain = Scripted::default();
        plain.submits.lock().unwrap().extend([
            Err(DeviceError::Dropped.after_sending()),
            Err(DeviceError::Timeout),
            Err(DeviceError::Unreachable),
        ]);
        let outcome = attempt(&plain, &job(JobStatus::Queued, 0), b"%PDF").await;
        assert!(matches!(outcome, Outcome::Retry { uncertain: true, .. }), "{outcome:?}");
        assert_eq!(reason(&outcome), Some("dropped"));
        // A printer that is off (no answer to the connection), or nothing at the address:
        // nothing went out, and it is simply tried again.
        for _ in 0..2 {
            let outcome = attempt(&plain, &job(JobStatus::Queued, 0), b"%PDF").await;
            assert!(matches!(outcome, Outcome::Retry { uncertain: false, .. }), "{outcome:?}");
        }

        let mut unsure = job(JobStatus::Queued, 1);
        unsure.uncertain = true;
        // The printer holds it: followed there, not sent again.
        let holding = Listing { inner: Scripted::default(), holds: vec![(unsure.printer_name(), 41)], answers: true };
        let outcome = attempt(&holding, &unsure, b"%PDF").await;
        assert!(matches!(outcome, Outcome::Sent { remote: 41, .. }), "{outcome:?}");
        assert!(holding.inner.sent.lock().unwrap().is_empty());
        // It never arrived: sent, under the name it can be found by.
        let empty = Listing { inner: Scripted::default(), holds: vec![], answers: true };
        empty.inner.submits.lock().unwrap().push_back(Ok(Submitted::Queued(42)));
        let outcome = attempt(&empty, &unsure, b"%PDF").await;
        assert!(matches!(outcome, Outcome::Sent { remote: 42, .. }), "{outcome:?}");
        assert_eq!(empty.inner.sent.lock().unwrap().len(), 1);
        // The printer does not answer the question: still unsure, asked again later.
        let silent = Listing { inner: Scripted::default(), holds: vec![], answers: false };
        let outcome = attempt(&silent, &unsure, b"%PDF").await;
        assert!(matches!(outcome, Outcome::Retry { uncertain: true, .. }), "{outcome:?}");
        assert!(silent.inner.sent.lock().unwrap().is_empty());
        // A printer that cannot list its jobs (raw ESC/POS): staff look and re-print by hand.
        let outcome = attempt(&plain, &unsure, b"%PDF").await;
        assert_eq!(outcome, Outcome::Failed(UNCERTAIN.into()));
        assert_eq!(plain.sent.lock().unwrap().len(), 3, "only the first tries went out");
        // Out of tries while unsure: failed as uncertain, never as a plain error.
        let mut last = unsure.clone();
        last.attempts = MAX_ATTEMPTS;
        assert_eq!(attempt(&silent, &last, b"%PDF").await, Outcome::Failed(UNCERTAIN.into()));
    }

    fn reason(outcome: &Outcome) -> Option<&str> {
        match outcome {
            Outcome::Waiting { reason, .. } => reason.as_deref(),
            Outcome::Retry { error, .. } | Outcome::Failed(error) => Some(error),
            Outcome::Sent { .. } | Outcome::Done => None,
        }
    }

    #[tokio::test]
    async fn a_job_is_followed_at_the_printer_until_it_is_printed() {
        let printer = Scripted::default();
        printer.submits.lock().unwrap().push_back(Ok(Submitted::Queued(7)));
        let sent = attempt(&printer, &job(JobStatus::Queued, 0), b"%PDF").await;
        assert!(matches!(sent, Outcome::Sent { remote: 7, .. }), "{sent:?}");
        printer.follows.lock().unwrap().extend([
            Ok(Progress::Printing(Some(Holdup::Attention(Attention::MediaEmpty)))),
            Ok(Progress::Printing(Some(Holdup::Stopped))),
            Ok(Progress::Printing(None)),
            Err(DeviceError::Timeout),
            Ok(Progress::Completed),
        ]);
        let at_printer = job(JobStatus::Sent, 1);
        let mut seen = Vec::new();
        for _ in 0..4 {
            let outcome = attempt(&printer, &at_printer, b"%PDF").await;
            assert!(matches!(outcome, Outcome::Waiting { .. }), "{outcome:?}");
            seen.push(reason(&outcome).map(str::to_string));
        }
        assert_eq!(seen, [Some("media_empty".into()), Some("stopped".into()), None, Some("timeout".into())]);
        assert_eq!(attempt(&printer, &at_printer, b"%PDF").await, Outcome::Done);
        // While the printer held the job it was never sent again: that would print it twice.
        assert_eq!(printer.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_job_the_printer_dropped_is_sent_again_and_one_it_cannot_take_fails() {
        let printer = Scripted::default();
        printer.follows.lock().unwrap().push_back(Ok(Progress::Ended(Some(Attention::MediaJam))));
        let outcome = attempt(&printer, &job(JobStatus::Sent, 1), b"%PDF").await;
        assert!(matches!(outcome, Outcome::Retry { .. }) && reason(&outcome) == Some("media_jam"), "{outcome:?}");
        printer.follows.lock().unwrap().push_back(Ok(Progress::Ended(None)));
        let outcome = attempt(&printer, &job(JobStatus::Sent, 1), b"%PDF").await;
        assert_eq!(reason(&outcome), Some("aborted"));

        printer.submits.lock().unwrap().extend([
            Err(DeviceError::Unsupported("image/urf only".into())),
            Err(DeviceError::NeedsAttention(Attention::MediaEmpty)),
            Err(DeviceError::NeedsAttention(Attention::MediaEmpty)),
            Ok(Submitted::Printed),
        ]);
        let outcome = attempt(&printer, &job(JobStatus::Queued, 0), b"%PDF").await;
        assert_eq!(outcome, Outcome::Failed("unsupported".into()));
        let outcome = attempt(&printer, &job(JobStatus::Queued, 3), b"%PDF").await;
        assert!(matches!(outcome, Outcome::Retry { .. }) && reason(&outcome) == Some("media_empty"), "{outcome:?}");
        // Its last try: the job fails, its document stays in its row for a re-print.
        let outcome = attempt(&printer, &job(JobStatus::Queued, MAX_ATTEMPTS - 1), b"%PDF").await;
        assert_eq!(outcome, Outcome::Failed("media_empty".into()));
        // A ticket printer confirms at once.
        assert_eq!(attempt(&printer, &job(JobStatus::Queued, 0), b"%PDF").await, Outcome::Done);
    }

    #[tokio::test]
    async fn a_printer_that_does_not_answer_delays_no_other_printer() {
        let dir = tempfile::tempdir().unwrap();
        let db =
            Db::open(&dir.path().join("simpul.db"), simpul_store::crypt::MasterKey::generate().unwrap().database_key())
                .await
                .unwrap();
        // A: accepts connections and never answers, as a printer hung on the network does.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_address = silent.local_addr().unwrap().to_string();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = silent.accept().await {
                keep.lock().unwrap().push(stream);
            }
        });
        // B: a working ticket printer.
        let sim = simpul_devsim::escpos::EscPosSim::new(dir.path().join("tickets")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let working_address = listener.local_addr().unwrap().to_string();
        tokio::spawn(simpul_devsim::escpos::serve(listener, sim));
        let now = OffsetDateTime::now_utc();
        let (silent_job, working_job) = db
            .call(move |c| {
                let a = devices::add(c, DeviceKind::TicketPrinter, "A", &silent_address, None, now)?;
                let b = devices::add(c, DeviceKind::TicketPrinter, "B", &working_address, None, now)?;
                let doc = simpul_hardware::escpos::ticket_bytes(&Ticket {
                    office: "Kuta Selatan".into(),
                    service: "KTP-el".into(),
                    number: "A-001".into(),
                    lane: "Umum".into(),
                    time: "22-11-2026 08:00".into(),
                    qr: "SPL-T:1".into(),
                    footer: "Mohon menunggu".into(),
                });
                let job = |device: &str, at| {
                    let new = devices::NewJob {
                        device_id: device,
                        title: "Tiket",
                        subject: None,
                        format: crate::devices::ESCPOS,
                        document: &doc,
                        created_by: "test",
                        reprint_of: None,
                    };
                    devices::enqueue(c, &new, at)
                };
                // A's job is the older one: a queue working one job at a time starts there.
                Ok((job(&a, now - time::Duration::seconds(5))?, job(&b, now)?))
            })
            .await
            .unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let queue = tokio::spawn(run_on(db.clone(), stop_rx));
        let jobs = |db: Db, silent: String, working: String| async move {
            db.call(move |c| Ok((devices::job(c, &silent)?.unwrap(), devices::job(c, &working)?.unwrap())))
                .await
                .unwrap()
        };
        let mut polls = 0;
        let (a, b) = loop {
            polls += 1;
            assert!(polls < 1200, "B was never printed");
            let (a, b) = jobs(db.clone(), silent_job.clone(), working_job.clone()).await;
            if b.status == JobStatus::Done {
                break (a, b);
            }
            assert_eq!(b.status, JobStatus::Queued, "{b:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // B printed while A's first try was still waiting for its printer to answer.
        assert_eq!((a.status, a.attempts), (JobStatus::Queued, 0), "{a:?} {b:?}");
        let mut waited = 0;
        while held.lock().unwrap().is_empty() {
            waited += 1;
            assert!(waited < 100, "A was never tried");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop_tx.send(true).unwrap();
        queue.await.unwrap();
        // A's try ended when the queue stopped, and was recorded: a retry later.
        let (a, _) = jobs(db.clone(), silent_job, working_job).await;
        assert_eq!((a.status, a.attempts, a.error.as_deref()), (JobStatus::Queued, 1, Some("timeout")), "{a:?}");
    }
}
