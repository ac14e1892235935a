//! The queue's server functions: the kiosk (with its device token), the waiting-room display,
//! and the counters that call, serve, skip and transfer tickets.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::ApiError;
use crate::wire::*;

/// Services for the kiosk (device token required).
#[server(endpoint = "kiosk", prefix = "/api", input = GetUrl)]
pub async fn get_kiosk(token: String) -> Result<KioskView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.get_kiosk(&parts, &token).await
    })
    .await
}

/// Takes a ticket at the kiosk. `client_id` makes a retry return the same ticket.
#[server(endpoint = "kiosk/ticket", prefix = "/api")]
pub async fn kiosk_take(
    token: String,
    service_id: String,
    lane: String,
    client_id: String,
) -> Result<TicketView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.kiosk_take(&parts, &token, &service_id, &lane, &client_id).await
    })
    .await
}

/// Reports whether the kiosk's printer produced the ticket.
#[server(endpoint = "kiosk/printed", prefix = "/api")]
pub async fn kiosk_printed(token: String, ticket_id: String, ok: bool) -> Result<TicketView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.kiosk_printed(&parts, &token, &ticket_id, ok).await
    })
    .await
}

/// The waiting-room display (device token required). Live updates come from
/// `/api/layar/stream`.
#[server(endpoint = "display", prefix = "/api", input = GetUrl)]
pub async fn get_display(token: String) -> Result<DisplayView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.get_display(&parts, &token).await
    })
    .await
}

/// The counter desk.
#[server(endpoint = "counter", prefix = "/api", input = GetUrl)]
pub async fn get_counter_desk() -> Result<CounterDesk, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(
        Permission::ServeCounter,
        |backend, user| async move { backend.get_counter_desk(&user).await },
    )
    .await
}

/// Opens or closes a counter for the logged-in staff member.
#[server(endpoint = "counter/open", prefix = "/api")]
pub async fn counter_open(csrf: String, counter: String, open: bool) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_open(&user, &counter, open).await
    })
    .await
}

/// Calls the next ticket to a counter.
#[server(endpoint = "counter/call", prefix = "/api")]
pub async fn counter_call(csrf: String, counter: String) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_call(&user, &counter).await
    })
    .await
}

/// Calls a ticket that did not come (skipped earlier today) again, to a counter.
#[server(endpoint = "counter/call-again", prefix = "/api")]
pub async fn counter_call_again(csrf: String, counter: String, ticket: String) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_call_again(&user, &counter, &ticket).await
    })
    .await
}

/// Recall, start, finish, skip or transfer the ticket at a counter.
#[server(endpoint = "counter/act", prefix = "/api")]
pub async fn counter_act(
    csrf: String,
    ticket: String,
    action: String,
    to_counter: Option<String>,
    to_service: Option<String>,
) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_act(&user, &ticket, &action, to_counter.as_deref(), to_service.as_deref()).await
    })
    .await
}
