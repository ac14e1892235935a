//! Watches the link to the regency hub: asks the hub's `/healthz` at an interval and keeps the
//! state (online, offline since when, the last error in plain words) for the UI banner.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

/// Where the link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// This box is the hub.
    Hub,
    /// No hub is configured.
    NotConfigured,
    /// No check has finished.
    Checking,
    /// The hub answered.
    Online,
    /// The hub did not answer.
    Offline,
}

/// A snapshot of the link.
#[derive(Debug, Clone)]
pub struct LinkStatus {
    /// The state.
    pub link: Link,
    /// Since when the state holds (first check that found it).
    pub since: Option<OffsetDateTime>,
    /// When the last check finished.
    pub last_check: Option<OffsetDateTime>,
    /// Why the last check failed.
    pub error: Option<LinkProblem>,
}

/// Why the hub could not be reached, with a stable code the UI translates and an English
/// detail for the technician and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    /// The hub did not answer in time.
    #[error("the hub did not answer in time")]
    Timeout,
    /// No connection (network down, hub off, wrong address).
    #[error("cannot connect to the hub (network down or hub off)")]
    Unreachable,
    /// The hub answered with an HTTP error.
    #[error("the hub answered HTTP {0}")]
    Http(u16),
    /// Something answers at the address, but not a Simpul hub (what it is, in English).
    #[error("{0}")]
    NotAHub(String),
    /// Anything else (a bad address, a client that cannot start, a broken answer).
    #[error("{0}")]
    Other(String),
}

impl LinkProblem {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LinkProblem::Timeout => "timeout",
            LinkProblem::Unreachable => "unreachable",
            LinkProblem::Http(_) => "hub_http",
            LinkProblem::NotAHub(_) => "not_a_hub",
            LinkProblem::Other(_) => "link_other",
        }
    }
}

/// Shared link state.
#[derive(Debug)]
pub struct HubLink {
    status: RwLock<LinkStatus>,
}

impl HubLink {
    /// A link in its initial state.
    pub fn new(initial: Link) -> Arc<HubLink> {
        Arc::new(HubLink {
            status: RwLock::new(LinkStatus { link: initial, since: None, last_check: None, error: None }),
        })
    }

    /// The current snapshot.
    pub fn status(&self) -> LinkStatus {
        self.status.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the outcome of one check at `now`.
    pub fn record(&self, outcome: Result<(), LinkProblem>, now: OffsetDateTime) {
        let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
        let next = if outcome.is_ok() { Link::Online } else { Link::Offline };
        if s.link != next {
            if next == Link::Online {
                tracing::info!("hub link is up");
            } else {
                tracing::warn!(error = %outcome.as_ref().err().map(ToString::to_string).unwrap_or_default(), "hub link is down");
            }
            s.link = next;
            s.since = Some(now);
        }
        s.last_check = Some(now);
        s.error = outcome.err();
    }
}

#[derive(Deserialize)]
struct Health {
    service: String,
    role: String,
}

/// One check: GET `{hub}/healthz`, which must say it is a Simpul hub.
pub async fn check(client: &reqwest::Client, base: &reqwest::Url) -> Result<(), LinkProblem> {
    let url = base.join("healthz").map_err(|e| LinkProblem::Other(format!("bad hub address: {e}")))?;
    let response = client.get(url).send().await.map_err(|e| describe(&e))?;
    if !response.status().is_success() {
        return Err(LinkProblem::Http(response.status().as_u16()));
    }
    let bytes = response.bytes().await.map_err(|e| describe(&e))?;
    let not_simpul = || LinkProblem::NotAHub("the address answers, but not as a Simpul hub".into());
    if bytes.len() > 4096 {
        return Err(not_simpul());
    }
    let health: Health = serde_json::from_slice(&bytes).map_err(|_| not_simpul())?;
    if health.service != "simpul" {
        return Err(not_simpul());
    }
    if health.role != "hub" {
        return Err(LinkProblem::NotAHub(format!("the address is a Simpul {} box, not a hub", health.role)));
    }
    Ok(())
}

/// A failed request to the hub, classified.
pub fn describe(e: &reqwest::Error) -> LinkProblem {
    if e.is_timeout() {
        LinkProblem::Timeout
    } else if e.is_connect() {
        LinkProblem::Unreachable
    } else {
        LinkProblem::Other(format!("request to the hub failed: {e}"))
    }
}

/// Checks the hub every `interval` until `shutdown` resolves.
pub async fn watch(
    link: Arc<HubLink>,
    base: reqwest::Url,
    interval: Duration,
    timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let client = match reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => {
            link.record(
                Err(LinkProblem::Other(format!("cannot start the HTTP client: {e}"))),
                OffsetDateTime::now_utc(),
            );
            return;
        }
    };
    // A trailing slash makes `join` keep the base path.
    let base = if base.path().ends_with('/') {
        base
    } else {
        let mut b = base.clone();
        b.set_path(&format!("{}/", base.path()));
        b
    };
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticker.tick() => {
                let outcome = check(&client, &base).await;
                link.record(outcome, OffsetDateTime::now_utc());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn records_since_when_the_state_changed() {
        let link = HubLink::new(Link::Checking);
        let t1 = datetime!(2026-11-21 06:00 UTC);
        let t2 = datetime!(2026-11-21 06:01 UTC);
        let t3 = datetime!(2026-11-21 06:02 UTC);
        link.record(Err(LinkProblem::Unreachable), t1);
        link.record(Err(LinkProblem::Timeout), t2);
        let s = link.status();
        assert_eq!(
            (s.link, s.since, s.last_check, s.error.as_ref().map(LinkProblem::code)),
            (Link::Offline, Some(t1), Some(t2), Some("timeout"))
        );
        link.record(Ok(()), t3);
        let s = link.status();
        assert_eq!((s.link, s.since, s.error), (Link::Online, Some(t3), None));
    }
}
