//! Reads of personal data on the audit trail: opening an application, viewing or downloading a
//! file, a search by NIK or name, a printout. A page view must not cost a disk sync, so reads
//! are group-committed: the handler notes the read and goes on, a task writes what was noted
//! in one transaction every [`FLUSH_EVERY`]. A power cut loses at most the reads of that last
//! interval (about half a second); writes keep their entry in their own transaction.

use std::time::Duration;

use simpul_store::Db;
use simpul_store::audit::{Actor, Read};
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

/// How long noted reads wait to be written together (the bound on what a power cut loses).
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Where handlers note reads.
#[derive(Debug, Clone)]
pub struct ReadLog {
    tx: mpsc::UnboundedSender<Read>,
}

/// The other end, for the writer task.
#[derive(Debug)]
pub struct ReadQueue(mpsc::UnboundedReceiver<Read>);

impl ReadLog {
    /// A log and the queue its writer drains.
    pub fn new() -> (ReadLog, ReadQueue) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ReadLog { tx }, ReadQueue(rx))
    }

    /// Notes that staff `staff` read `subject` (an id or digest, never a personal value).
    pub fn note(&self, staff: &str, action: &'static str, subject: Option<&str>, detail: Option<String>) {
        let read = Read {
            at: OffsetDateTime::now_utc(),
            actor: Actor::Staff(staff.to_string()),
            action,
            subject: subject.map(str::to_string),
            detail,
        };
        // The writer is gone only while the server stops, after the last request.
        let _ = self.tx.send(read);
    }
}

/// Writes noted reads in batches until `stop`, then writes what is left.
pub async fn write(db: Db, mut queue: ReadQueue, stop: watch::Receiver<bool>) {
    loop {
        let mut until_stop = stop.clone();
        let first = tokio::select! {
            first = queue.0.recv() => first,
            _ = until_stop.wait_for(|s| *s) => None,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        // Whatever else arrives meanwhile joins this transaction.
        let mut until_stop = stop.clone();
        let stopped = tokio::time::timeout(FLUSH_EVERY, until_stop.wait_for(|s| *s)).await.is_ok();
        while let Ok(more) = queue.0.try_recv() {
            batch.push(more);
        }
        store(&db, batch).await;
        if stopped {
            break;
        }
    }
    let mut rest = Vec::new();
    while let Ok(more) = queue.0.try_recv() {
        rest.push(more);
    }
    if !rest.is_empty() {
        store(&db, rest).await;
    }
}

async fn store(db: &Db, batch: Vec<Read>) {
    let count = batch.len();
    if let Err(e) = db.call(move |c| simpul_store::audit::record_reads(c, &batch)).await {
        tracing::error!(error = %e, reads = count, "reads could not be written to the audit trail");
    }
}
