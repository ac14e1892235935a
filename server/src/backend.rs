//! The server's side of the UI contract: implements the app's `Backend` with the database,
//! the sessions and the hub link. Each method is one call into `auth` or `store`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use simpul_app::api::{
    ApplicantForm, ApplicationRow, ApplicationView, BoxView, ConflictView, CounterDesk, CounterView, DashboardView,
    DeviceForm, DeviceView, DevicesView, DiscoveryView, DisplayView, IntakeForm, IntakeView, KioskService, KioskView,
    LinkState, LinkView, PrintJobView, Printout, ServiceSummary, ServiceView, SessionInfo, StaffView, StepForm,
    SyncView, SystemView, TestOutcome, TicketView, UnitView, UserView,
};
use simpul_app::backend::Backend;
use simpul_app::error::{ApiError, Refusal};
use simpul_domain::auth::Permission;
use simpul_domain::office::BoxRole;
use simpul_domain::zone::Zone;
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::auth::{self, AuthError, Lifetimes};
use crate::db::StoreError;
use crate::hublink::Link;
use crate::queue::{self, QueueError};
use crate::state::Core;
use crate::store::tokens::{self, Purpose};
use crate::store::{self, settings, staff};

/// Set by the session middleware when the request carried a session cookie the store no
/// longer knows: the session ran out.
#[derive(Debug, Clone, Copy)]
pub struct SessionMarker {
    /// The cookie named a session that no longer exists.
    pub expired: bool,
}

/// The backend handed to the UI's server functions.
pub struct AppBackend {
    pub(crate) core: Arc<Core>,
}

impl AppBackend {
    /// Wraps the server core.
    pub fn new(core: Arc<Core>) -> Self {
        AppBackend { core }
    }

    fn lifetimes(&self) -> Lifetimes {
        Lifetimes { absolute_secs: (self.core.config.session.absolute_hours * 3600) as i64 }
    }

    pub(crate) async fn unit(&self) -> Result<Option<(BoxRole, simpul_domain::office::Unit)>, ApiError> {
        self.core.db.call(|c| settings::unit(c)).await.map_err(internal)
    }

    /// The office this box serves and its time zone; refused on a box without one.
    pub(crate) async fn office(&self) -> Result<(simpul_domain::office::Unit, Zone), ApiError> {
        match self.unit().await? {
            Some((BoxRole::Office, unit)) => {
                let zone = unit.zone();
                Ok((unit, zone))
            }
            _ => Err(ApiError::Refused(Refusal::NoOffice)),
        }
    }

    pub(crate) async fn device(&self, purpose: Purpose, token: &str) -> Result<(), ApiError> {
        let token = token.to_string();
        let ok = self.core.db.call(move |c| tokens::valid(c, purpose, &token)).await.map_err(internal)?;
        if ok { Ok(()) } else { Err(ApiError::Refused(Refusal::DeviceToken)) }
    }

    /// Runs a queue action in one transaction, then tells the displays.
    async fn queue_tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let result = self
            .core
            .db
            .call(move |c| {
                crate::db::transaction(c, f, |e| match e {
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
        let entries = self.core.db.call(|c| store::catalog::list(c)).await.map_err(internal)?;
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
            serving: state.serving,
            last_called: state.last_called,
            waiting: state.waiting,
            call_seq: state.call_seq,
        })
    }

    pub(crate) async fn zone(&self) -> Zone {
        match self.unit().await {
            Ok(Some((_, unit))) => unit.zone(),
            _ => Zone::Wib,
        }
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

fn ticket_view(t: queue::Ticket) -> TicketView {
    TicketView {
        id: t.id,
        number: t.number,
        lane: t.lane,
        service_id: t.service_id,
        service: t.service,
        state: t.state,
        counter: t.counter,
        issued: t.issued,
        print_error: None,
    }
}

pub(crate) fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "storage failure");
    ApiError::Internal
}

fn session_of(parts: &Parts) -> Result<Session, ApiError> {
    parts.extensions.get::<Session>().cloned().ok_or_else(|| {
        tracing::error!("no session layer on this route");
        ApiError::Internal
    })
}

fn expired(parts: &Parts) -> bool {
    parts.extensions.get::<SessionMarker>().is_some_and(|m| m.expired)
}

fn client_address(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

fn api_error(e: AuthError, parts: &Parts) -> ApiError {
    match e {
        AuthError::Unauthenticated if expired(parts) => ApiError::SessionExpired,
        AuthError::Unauthenticated => ApiError::Unauthenticated,
        AuthError::Expired => ApiError::SessionExpired,
        AuthError::Forbidden => ApiError::Forbidden,
        AuthError::Csrf => ApiError::Csrf,
        AuthError::InvalidCredentials => ApiError::InvalidCredentials,
        AuthError::Throttled(secs) => ApiError::Throttled { retry_after_secs: secs.max(1) as u64 },
        AuthError::Store(e) => internal(e),
        AuthError::Session(e) => {
            tracing::error!(error = %e, "session store failure");
            ApiError::Internal
        }
    }
}

fn user_view(a: &staff::Account) -> UserView {
    UserView { id: a.id.clone(), username: a.username.to_string(), display_name: a.display_name.clone(), role: a.role }
}

/// "14:05 WITA".
pub fn local_time(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}:{:02} {}", local.hour(), local.minute(), zone.abbreviation())
}

/// "21-11-2026 14:05 WITA".
pub fn local_datetime(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}-{:02}-{} {}", local.day(), u8::from(local.month()), local.year(), local_time(at, zone))
}

#[async_trait::async_trait]
impl Backend for AppBackend {
    async fn session_info(&self, parts: &Parts) -> Result<SessionInfo, ApiError> {
        let session = session_of(parts)?;
        let csrf = auth::csrf_token(&session).await.map_err(|e| api_error(e, parts))?;
        let (user, was_expired) =
            match auth::current_account(&self.core.db, &session, self.lifetimes(), OffsetDateTime::now_utc()).await {
                Ok(account) => (Some(user_view(&account)), false),
                Err(AuthError::Unauthenticated) => (None, expired(parts)),
                Err(AuthError::Expired) => (None, true),
                Err(e) => return Err(api_error(e, parts)),
            };
        // An expired login flushed the session: hand out a fresh token.
        let csrf = if was_expired { auth::csrf_token(&session).await.map_err(|e| api_error(e, parts))? } else { csrf };
        let unit = self.unit().await?;
        Ok(SessionInfo {
            user,
            csrf,
            box_role: self.core.config.role,
            unit: unit.map(|(_, u)| UnitView { code: u.code.to_string(), name: u.name }),
            expired: was_expired,
        })
    }

    async fn login(&self, parts: &Parts, csrf: &str, username: &str, password: &str) -> Result<UserView, ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))?;
        if username.len() > 64 || password.len() > 256 {
            return Err(ApiError::InvalidCredentials);
        }
        let account =
            auth::login(&self.core.db, &session, username, password, &client_address(parts), OffsetDateTime::now_utc())
                .await
                .map_err(|e| api_error(e, parts))?;
        Ok(user_view(&account))
    }

    async fn logout(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::logout(&self.core.db, &session, csrf, OffsetDateTime::now_utc()).await.map_err(|e| api_error(e, parts))
    }

    async fn change_password(
        &self,
        parts: &Parts,
        csrf: &str,
        current: &str,
        new_password: &str,
        repeat: &str,
    ) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))?;
        let now = OffsetDateTime::now_utc();
        let account = auth::current_account(&self.core.db, &session, self.lifetimes(), now)
            .await
            .map_err(|e| api_error(e, parts))?;
        if current.len() > 256 {
            return Err(ApiError::InvalidCredentials);
        }
        let field =
            |code: &str| ApiError::Refused(Refusal::Fields(vec![("new_password".into(), code.into(), String::new())]));
        if new_password != repeat {
            return Err(ApiError::Refused(Refusal::Fields(vec![("repeat".into(), "mismatch".into(), String::new())])));
        }
        if new_password.len() > 1024 {
            return Err(field("too_long"));
        }
        // A box's office accounts come from the hub: the change goes back up to it.
        let for_hub = self.core.config.role == BoxRole::Office && account.office.is_some();
        let outcome = auth::change_own_password(
            &self.core.db,
            &session,
            &account,
            auth::PasswordChange { current, new: new_password },
            &client_address(parts),
            for_hub,
            now,
        )
        .await
        .map_err(|e| api_error(e, parts))?;
        outcome.map_err(|problem| field(problem.code()))
    }

    async fn authorize(&self, parts: &Parts, permission: Permission) -> Result<UserView, ApiError> {
        let session = session_of(parts)?;
        let account = auth::current_account(&self.core.db, &session, self.lifetimes(), OffsetDateTime::now_utc())
            .await
            .and_then(|a| auth::require(a, permission))
            .map_err(|e| api_error(e, parts))?;
        Ok(user_view(&account))
    }

    async fn link(&self) -> LinkView {
        let status = self.core.link.status();
        let zone = self.zone().await;
        LinkView {
            state: match status.link {
                Link::Hub => LinkState::Hub,
                Link::NotConfigured => LinkState::NotConfigured,
                Link::Checking => LinkState::Checking,
                Link::Online => LinkState::Online,
                Link::Offline => LinkState::Offline,
            },
            since: status.since.map(|t| local_time(t, zone)),
            last_check: status.last_check.map(|t| local_datetime(t, zone)),
            error_code: status.error.as_ref().map(|e| e.code().to_string()),
            error: status.error.map(|e| e.to_string()),
        }
    }

    async fn check_csrf(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))
    }

    async fn kiosk_view(&self, _parts: &Parts, token: &str) -> Result<KioskView, ApiError> {
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
            .call(|c| store::devices::for_counter(c, simpul_hardware::DeviceKind::TicketPrinter, None))
            .await
            .map_err(internal)?;
        let Some(printer) = printer.filter(|_| ticket.state == "pending_print") else {
            return Ok(ticket_view(ticket));
        };
        let printed = crate::printouts::queue_ticket(&unit.name, &ticket, lane, &local_datetime(now, zone));
        let result = crate::printing::print_ticket(&printer, &printed).await;
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

    async fn display_view(&self, _parts: &Parts, token: &str) -> Result<DisplayView, ApiError> {
        self.device(Purpose::Display, token).await?;
        self.display_state().await
    }

    async fn counter_desk(&self, _user: &UserView) -> Result<CounterDesk, ApiError> {
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
                let counters = queue::counters(c).map_err(map)?;
                let mut with_current = Vec::new();
                for counter in counters {
                    let current = queue::current(c, &counter.id, day).map_err(map)?;
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

    async fn catalog_list(&self) -> Result<Vec<ServiceSummary>, ApiError> {
        let entries = self.core.db.call(|c| store::catalog::list(c)).await.map_err(internal)?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let s = e.standard;
                let issuer = match &s.issuer.government {
                    Some(g) => format!("{g} / {}", s.issuer.agency),
                    None => s.issuer.agency.clone(),
                };
                ServiceSummary {
                    id: e.id,
                    title: s.title,
                    kind: s.kind,
                    completion: s.completion.map(|c| c.time),
                    fee: s.fee.kind,
                    issuer,
                }
            })
            .collect())
    }

    async fn catalog_detail(&self, id: uuid::Uuid) -> Result<ServiceView, ApiError> {
        let id = id.to_string();
        let entry = self.core.db.call(move |c| store::catalog::get(c, &id)).await.map_err(internal)?;
        let entry = entry.ok_or(ApiError::NotFound)?;
        let zone = self.zone().await;
        Ok(ServiceView {
            id: entry.id,
            standard: entry.standard,
            source: entry.source,
            imported_at: local_datetime(entry.imported_at, zone),
        })
    }

    async fn staff_list(&self) -> Result<Vec<StaffView>, ApiError> {
        let accounts = self.core.db.call(|c| staff::list(c)).await.map_err(internal)?;
        Ok(accounts
            .into_iter()
            .map(|a| StaffView {
                username: a.username.to_string(),
                display_name: a.display_name,
                role: a.role,
                office: a.office.map(|o| o.to_string()),
                active: a.active,
            })
            .collect())
    }

    async fn system_info(&self) -> Result<SystemView, ApiError> {
        let schema = self.core.db.call(|c| crate::db::schema_version(c)).await.map_err(internal)?;
        let database_bytes = std::fs::metadata(self.core.db.path()).map(|m| m.len()).unwrap_or(0);
        let unit = self.unit().await?;
        let zone = self.zone().await;
        Ok(SystemView {
            version: env!("CARGO_PKG_VERSION").to_string(),
            box_role: self.core.config.role,
            unit: unit.map(|(_, u)| UnitView { code: u.code.to_string(), name: u.name }),
            data_dir: self.core.config.data_dir.display().to_string(),
            database_bytes,
            schema_version: schema,
            hub_url: match &self.core.config.hub.url {
                Some(url) => Some(url.clone()),
                // An enrolled box keeps the hub's address from its enrollment.
                None => self
                    .core
                    .db
                    .call(|c| crate::store::settings::get(c, crate::syncbox::HUB_URL_SETTING))
                    .await
                    .map_err(internal)?,
            },
            link: self.link().await,
            zone: zone.abbreviation().to_string(),
        })
    }

    async fn applications(&self, user: &UserView, list: &str) -> Result<Vec<ApplicationRow>, ApiError> {
        self.apps_list(user, list).await
    }

    async fn search_applications(&self, typed: &str) -> Result<Vec<ApplicationRow>, ApiError> {
        self.apps_search(typed).await
    }

    async fn application(&self, user: &UserView, id: &str) -> Result<ApplicationView, ApiError> {
        self.app_view(user, id).await
    }

    async fn intake(&self, ticket: Option<&str>) -> Result<IntakeView, ApiError> {
        self.intake_view(ticket).await
    }

    async fn open_application(&self, user: &UserView, client_id: &str, form: IntakeForm) -> Result<String, ApiError> {
        self.app_open(user, client_id, form).await
    }

    async fn update_applicant(&self, user: &UserView, id: &str, applicant: ApplicantForm) -> Result<(), ApiError> {
        self.app_update_applicant(user, id, applicant).await
    }

    async fn confirm_requirement(
        &self,
        user: &UserView,
        id: &str,
        item: usize,
        confirmed: bool,
    ) -> Result<(), ApiError> {
        self.app_confirm(user, id, item, confirmed).await
    }

    async fn application_step(
        &self,
        user: &UserView,
        client_id: &str,
        id: &str,
        action: simpul_domain::application::Action,
        form: StepForm,
    ) -> Result<simpul_domain::application::Status, ApiError> {
        self.app_step(user, client_id, id, action, form).await
    }

    async fn dashboard(&self, user: &UserView) -> Result<DashboardView, ApiError> {
        self.dashboard_view(user).await
    }

    async fn sync_status(&self) -> Result<SyncView, ApiError> {
        self.sync_view().await
    }

    async fn sync_now(&self) -> Result<(), ApiError> {
        self.start_sync()
    }

    async fn conflicts(&self) -> Result<Vec<ConflictView>, ApiError> {
        self.conflict_views().await
    }

    async fn resolve_conflict(
        &self,
        user: &UserView,
        id: i64,
        keep: Option<u32>,
        corrected: &str,
        seen: &str,
        reason: &str,
    ) -> Result<(), ApiError> {
        self.settle(user, id, keep, corrected, seen, reason).await
    }

    async fn enrolled_boxes(&self) -> Result<Vec<BoxView>, ApiError> {
        self.box_views().await
    }

    async fn create_enroll_token(&self, user: &UserView, office: &str, hours: u32) -> Result<String, ApiError> {
        self.new_enroll_token(user, office, hours).await
    }

    async fn revoke_box(&self, user: &UserView, office: &str, fingerprint: &str) -> Result<(), ApiError> {
        self.revoke_one_box(user, office, fingerprint).await
    }

    async fn devices(&self) -> Result<DevicesView, ApiError> {
        self.devices_view().await
    }

    async fn add_device(&self, user: &UserView, form: DeviceForm) -> Result<String, ApiError> {
        self.device_add(user, form).await
    }

    async fn check_device(&self, id: &str) -> Result<DeviceView, ApiError> {
        self.device_check(id).await
    }

    async fn assign_device(&self, user: &UserView, id: &str, counter: &str) -> Result<(), ApiError> {
        self.device_assign(user, id, counter).await
    }

    async fn rename_device(&self, user: &UserView, id: &str, name: &str) -> Result<(), ApiError> {
        self.device_rename(user, id, name).await
    }

    async fn remove_device(&self, user: &UserView, id: &str) -> Result<u32, ApiError> {
        self.device_remove(user, id).await
    }

    async fn accept_identity(&self, user: &UserView, id: &str) -> Result<(), ApiError> {
        self.device_accept_identity(user, id).await
    }

    async fn test_device(&self, user: &UserView, id: &str) -> Result<TestOutcome, ApiError> {
        self.device_test(user, id).await
    }

    async fn discover_devices(&self) -> Result<DiscoveryView, ApiError> {
        self.devices_discover().await
    }

    async fn print_printout(&self, user: &UserView, id: &str, printout: Printout) -> Result<String, ApiError> {
        self.printout_queue(user, id, printout).await
    }

    async fn print_jobs(&self, id: &str) -> Result<Vec<PrintJobView>, ApiError> {
        self.printout_jobs(id).await
    }

    async fn scan_jobs(&self, id: &str) -> Result<Vec<simpul_app::api::ScanJobView>, ApiError> {
        self.requirement_scans(id).await
    }

    async fn reprint(&self, user: &UserView, job: &str) -> Result<String, ApiError> {
        self.job_reprint(user, job).await
    }

    async fn scan_requirement(&self, user: &UserView, id: &str, item: usize) -> Result<u32, ApiError> {
        self.requirement_scan(user, id, item).await
    }

    async fn hand_captures(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        transaction: &str,
        blocks: Vec<String>,
    ) -> Result<u32, ApiError> {
        self.captures_from_browser(user, id, modality, transaction, blocks).await
    }

    async fn begin_capture(&self, user: &UserView, id: &str) -> Result<String, ApiError> {
        self.capture_transaction(user, id).await
    }

    async fn capture_on_box(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        missing: Vec<String>,
    ) -> Result<u32, ApiError> {
        self.captures_on_box(user, id, modality, missing).await
    }

    async fn record_capture_exceptions(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        parts: Vec<String>,
        reason: simpul_domain::sbi::ExceptionReason,
    ) -> Result<u32, ApiError> {
        self.capture_exceptions(user, id, modality, parts, reason).await
    }
}
