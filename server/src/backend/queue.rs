//! The queue's part of the backend: the kiosk and the display (each checked by its device token)
//! and the counters, each action one transaction after which the displays are told.

use axum::http::request::Parts;
use simpul_app::backend::QueueBackend;
use simpul_app::error::{ApiError, Refusal};
use simpul_app::wire::{CounterDesk, CounterView, DisplayView, KioskService, KioskView, TicketView, UserView};
use simpul_store::queue::{Stage, Ticket};
use simpul_store::tokens::Purpose;
use simpul_store::{StoreError, staff};
use time::OffsetDateTime;

use crate::backend::{AppBackend, internal, local_datetime};
use crate::office::queue::{self, QueueError};

impl AppBackend {
    /// Runs a queue action in one transaction, then tells the displays.
    async fn queue_tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&simpul_store::Transaction<'_>) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let result = self
            .core
            .db
            .call(move |c| {
                simpul_store::db::transaction(c, f, |e| match e {
                    QueueError::Store(e) => Ok(e),
                    other => Err(other),
                })
            })
            .await
            .map_err(internal)?
            .map_err(queue_error)?;
        self.core.queue_touched();
        Ok(result)
    }

    async fn services(&self) -> Result<Vec<KioskService>, ApiError> {
        let entries = self.core.db.call(|c| simpul_store::catalog::list(c)).await.map_err(internal)?;
        Ok(entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| KioskService {
                id: e.id,
                title: e.standard.title,
                letter: simpul_domain::queue::service_prefix(i).to_string(),
            })
            .collect())
    }

    /// The display's state (also used by the live stream).
    pub async fn display_state(&self) -> Result<DisplayView, ApiError> {
        let (unit, zone) = self.office().await?;
        let state = self
            .core
            .db
            .call(move |c| {
                queue::display(c, OffsetDateTime::now_utc(), zone).map_err(|e| match e {
                    QueueError::Store(e) => e,
                    other => StoreError::Corrupt(other.to_string()),
                })
            })
            .await
            .map_err(internal)?;
        Ok(DisplayView {
            office: unit.name,
            serving: state.serving.into_iter().map(|(counter, n)| (counter, n.map(|n| n.to_string()))).collect(),
            last_called: state.last_called.into_iter().map(|(n, counter)| (n.to_string(), counter)).collect(),
            waiting: state.waiting,
            call_seq: state.call_seq,
        })
    }
}

/// The staff id of `user` and whether they are the office head, for [`queue::Worker`].
fn worker_of(user: &UserView) -> (String, bool) {
    (user.id.clone(), user.role == simpul_domain::auth::Role::Kepala)
}

fn queue_error(e: QueueError) -> ApiError {
    match e {
        QueueError::NoTicket | QueueError::NoCounter | QueueError::UnknownService => ApiError::NotFound,
        QueueError::CounterClosed => ApiError::Refused(Refusal::CounterClosed),
        QueueError::Empty => ApiError::Refused(Refusal::QueueEmpty),
        QueueError::DayFull => ApiError::Refused(Refusal::NoMoreNumbers),
        QueueError::Busy => ApiError::Refused(Refusal::CounterBusy),
        QueueError::HeldBy(name) => ApiError::Refused(Refusal::CounterHeld(name)),
        QueueError::Illegal(e) => ApiError::Refused(Refusal::WrongState(format!("{:?}", e.state).to_lowercase())),
        QueueError::Store(e) => internal(e),
    }
}

/// A ticket as the pages show it.
fn ticket_view(t: Ticket) -> TicketView {
    TicketView {
        id: t.id,
        number: t.number.to_string(),
        lane: simpul_store::queue::lane_code(t.lane).to_string(),
        service_id: t.service_id,
        service: t.service,
        state: t.stage.code().to_string(),
        counter: t.counter,
        issued: format!("{:02}:{:02}", t.issued_at.hour(), t.issued_at.minute()),
        print_error: None,
    }
}

#[async_trait::async_trait]
impl QueueBackend for AppBackend {
    async fn get_kiosk(&self, _parts: &Parts, token: &str) -> Result<KioskView, ApiError> {
        self.device(Purpose::Kiosk, token).await?;
        let (unit, _) = self.office().await?;
        Ok(KioskView { office: unit.name, services: self.services().await? })
    }

    async fn kiosk_take(
        &self,
        _parts: &Parts,
        token: &str,
        service_id: &str,
        lane: &str,
        client_id: &str,
    ) -> Result<TicketView, ApiError> {
        self.device(Purpose::Kiosk, token).await?;
        let (unit, zone) = self.office().await?;
        let lane = match lane {
            "normal" => simpul_domain::queue::Lane::Normal,
            other => simpul_domain::queue::PriorityReason::from_code(other)
                .map(simpul_domain::queue::Lane::Priority)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown lane '{other}'")))?,
        };
        if client_id.is_empty() || client_id.len() > 64 {
            return Err(ApiError::BadRequest("client_id must have 1 to 64 characters".into()));
        }
        let (service_id, client_id) = (service_id.to_string(), client_id.to_string());
        let now = OffsetDateTime::now_utc();
        let ticket =
            self.queue_tx(move |tx| queue::issue(tx, unit.code, &service_id, lane, &client_id, now, zone)).await?;
        // With a ticket printer configured the box prints the ticket itself, and the ticket
        // counts only if the printer took it; without one the kiosk's browser prints it.
        let printer = self
            .core
            .db
            .call(|c| simpul_store::devices::for_counter(c, simpul_hardware::DeviceKind::TicketPrinter, None))
            .await
            .map_err(internal)?;
        let Some(printer) = printer.filter(|_| ticket.stage == Stage::PendingPrint) else {
            return Ok(ticket_view(ticket));
        };
        let printed = crate::office::printouts::queue_ticket(&unit.name, &ticket, lane, &local_datetime(now, zone));
        let result = crate::devices::printing::print_ticket(&printer, &printed).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "ticket printer failed; the ticket is void");
        }
        let (id, ok) = (ticket.id.clone(), result.is_ok());
        let mut view = ticket_view(self.queue_tx(move |tx| queue::printed(tx, &id, ok)).await?);
        view.print_error = result.err().map(|e| e.code());
        Ok(view)
    }

    async fn kiosk_printed(
        &self,
        _parts: &Parts,
        token: &str,
        ticket_id: &str,
        ok: bool,
    ) -> Result<TicketView, ApiError> {
        self.device(Purpose::Kiosk, token).await?;
        let id = ticket_id.to_string();
        Ok(ticket_view(self.queue_tx(move |tx| queue::printed(tx, &id, ok)).await?))
    }

    async fn get_display(&self, _parts: &Parts, token: &str) -> Result<DisplayView, ApiError> {
        self.device(Purpose::Display, token).await?;
        self.display_state().await
    }

    async fn get_counter_desk(&self, _user: &UserView) -> Result<CounterDesk, ApiError> {
        let (_, zone) = self.office().await?;
        let services = self.services().await?;
        let (counters, (waiting, no_shows), names) = self
            .core
            .db
            .call(move |c| {
                let now = OffsetDateTime::now_utc();
                let day = now.to_offset(zone.offset()).date();
                let map = |e: QueueError| match e {
                    QueueError::Store(e) => e,
                    other => StoreError::Corrupt(other.to_string()),
                };
                let counters = simpul_store::queue::counters(c)?;
                let mut with_current = Vec::new();
                for counter in counters {
                    let current = simpul_store::queue::current(c, &counter.id, day)?;
                    with_current.push((counter, current));
                }
                let waiting = queue::waiting(c, now, zone).map_err(map)?;
                let no_shows = queue::no_shows(c, now, zone).map_err(map)?;
                let names: Vec<(String, String)> =
                    staff::list(c)?.into_iter().map(|a| (a.id, a.display_name)).collect();
                Ok((with_current, (waiting, no_shows), names))
            })
            .await
            .map_err(internal)?;
        let name_of = |id: &Option<String>| {
            id.as_ref().and_then(|id| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()))
        };
        Ok(CounterDesk {
            counters: counters
                .into_iter()
                .map(|(c, current)| CounterView {
                    staff: name_of(&c.staff_id),
                    id: c.id,
                    name: c.name,
                    open: c.open,
                    current: current.map(ticket_view),
                })
                .collect(),
            waiting: waiting.into_iter().map(ticket_view).collect(),
            no_shows: no_shows.into_iter().map(ticket_view).collect(),
            services,
        })
    }

    async fn counter_open(&self, user: &UserView, counter: &str, open: bool) -> Result<(), ApiError> {
        let (_, zone) = self.office().await?;
        let (counter, (staff, head)) = (counter.to_string(), worker_of(user));
        self.queue_tx(move |tx| {
            let by = queue::Worker { id: &staff, head };
            queue::open_counter(tx, &counter, by, open, OffsetDateTime::now_utc(), zone)
        })
        .await
    }

    async fn counter_call(&self, user: &UserView, counter: &str) -> Result<TicketView, ApiError> {
        let (_, zone) = self.office().await?;
        let (counter, (staff, head)) = (counter.to_string(), worker_of(user));
        let policy =
            simpul_domain::queue::CallPolicy { max_priority_in_row: self.core.config.queue.max_priority_in_row };
        let ticket = self
            .queue_tx(move |tx| {
                let by = queue::Worker { id: &staff, head };
                queue::call_next(tx, &counter, by, policy, OffsetDateTime::now_utc(), zone)
            })
            .await?;
        Ok(ticket_view(ticket))
    }

    async fn counter_call_again(&self, user: &UserView, counter: &str, ticket: &str) -> Result<TicketView, ApiError> {
        let (_, zone) = self.office().await?;
        let (counter, ticket) = (counter.to_string(), ticket.to_string());
        let (staff, head) = worker_of(user);
        let t = self
            .queue_tx(move |tx| {
                let by = queue::Worker { id: &staff, head };
                queue::call_again(tx, &ticket, &counter, by, OffsetDateTime::now_utc(), zone)
            })
            .await?;
        Ok(ticket_view(t))
    }

    async fn counter_act(
        &self,
        user: &UserView,
        ticket: &str,
        action: &str,
        to_counter: Option<&str>,
        to_service: Option<&str>,
    ) -> Result<TicketView, ApiError> {
        use simpul_domain::queue::TicketAction as A;
        let (_, zone) = self.office().await?;
        let action = match action {
            "recall" => A::Recall,
            "start" => A::Start,
            "finish" => A::Finish,
            "skip" => A::Skip,
            "transfer" => A::Transfer,
            other => return Err(ApiError::BadRequest(format!("unknown action '{other}'"))),
        };
        if action == A::Transfer && to_counter.is_none_or(str::is_empty) && to_service.is_none_or(str::is_empty) {
            return Err(ApiError::Refused(Refusal::Missing("transfer target".into())));
        }
        let ticket = ticket.to_string();
        let to_counter = to_counter.unwrap_or_default().to_string();
        let to_service = to_service.filter(|s| !s.is_empty()).map(str::to_string);
        let (staff, head) = worker_of(user);
        let t = self
            .queue_tx(move |tx| {
                queue::act(
                    tx,
                    &ticket,
                    queue::Worker { id: &staff, head },
                    action,
                    Some((&to_counter, to_service.as_deref())),
                    OffsetDateTime::now_utc(),
                    zone,
                )
            })
            .await?;
        Ok(ticket_view(t))
    }
}
