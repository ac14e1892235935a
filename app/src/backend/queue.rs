//! The server's side of the queue area of the UI contract.

use axum::http::request::Parts;

use crate::error::ApiError;
use crate::wire::*;

/// The day's queue: the kiosk and the display (each with its device token) and the counters.
#[async_trait::async_trait]
pub trait QueueBackend: Send + Sync + 'static {
    /// The kiosk's services, for a valid kiosk token.
    async fn get_kiosk(&self, parts: &Parts, token: &str) -> Result<KioskView, ApiError>;
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
    async fn get_display(&self, parts: &Parts, token: &str) -> Result<DisplayView, ApiError>;
    /// The counter desk.
    async fn get_counter_desk(&self, user: &UserView) -> Result<CounterDesk, ApiError>;
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
}
