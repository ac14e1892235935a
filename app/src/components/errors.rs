//! Error messages in the user's language, and the panel that shows them.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::{ApiError, Refusal};
use crate::i18n::*;
use leptos_i18n::I18nContext;

/// The message for an error, in the current language.
pub fn message(i18n: I18nContext<Locale>, error: ApiError) -> AnyView {
    match error {
        ApiError::Unauthenticated => t!(i18n, errors.unauthenticated).into_any(),
        ApiError::SessionExpired => t!(i18n, errors.session_expired).into_any(),
        ApiError::Forbidden => t!(i18n, errors.forbidden).into_any(),
        ApiError::Csrf => t!(i18n, errors.csrf).into_any(),
        ApiError::InvalidCredentials => t!(i18n, errors.invalid_credentials).into_any(),
        ApiError::Throttled { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            t!(i18n, errors.throttled, minutes).into_any()
        }
        ApiError::NotFound => t!(i18n, errors.not_found).into_any(),
        ApiError::BadRequest(detail) => t!(i18n, errors.bad_request, detail).into_any(),
        ApiError::Unavailable(_) => t!(i18n, errors.unavailable).into_any(),
        ApiError::DiskFull => t!(i18n, errors.disk_full).into_any(),
        ApiError::Internal => t!(i18n, errors.internal).into_any(),
        ApiError::Refused(refusal) => refusal_message(i18n, refusal),
    }
}

/// The message for a refusal by the office's rules.
pub fn refusal_message(i18n: I18nContext<Locale>, refusal: Refusal) -> AnyView {
    match refusal {
        Refusal::DeviceToken => t!(i18n, refusals.device_token).into_any(),
        Refusal::QueueEmpty => t!(i18n, refusals.queue_empty).into_any(),
        Refusal::CounterClosed => t!(i18n, refusals.counter_closed).into_any(),
        Refusal::CounterBusy => t!(i18n, refusals.counter_busy).into_any(),
        Refusal::CounterHeld(name) => t!(i18n, refusals.counter_held, name = name.clone()).into_any(),
        Refusal::NoMoreNumbers => t!(i18n, refusals.no_more_numbers).into_any(),
        Refusal::WrongState(state) => {
            let state = super::lang::status_code_text(i18n, &state);
            t!(i18n, refusals.wrong_state, state).into_any()
        }
        Refusal::Fields(fields) => {
            let count = fields.len();
            t!(i18n, refusals.fields, count).into_any()
        }
        Refusal::RequirementsMissing(items) => {
            let items = items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            t!(i18n, refusals.requirements_missing, items).into_any()
        }
        Refusal::ReturnReasons => t!(i18n, refusals.return_reasons).into_any(),
        Refusal::AwaitingDecision(fields) => {
            let fields = fields.iter().map(|f| super::lang::settled_field_text(i18n, f)).collect::<Vec<_>>().join(", ");
            t!(i18n, refusals.awaiting_decision, fields).into_any()
        }
        Refusal::Locked(state) => {
            let state = super::lang::status_code_text(i18n, &state);
            t!(i18n, refusals.locked, state).into_any()
        }
        Refusal::PowerOfAttorney(code) => {
            let detail = super::lang::poa_text(i18n, &code);
            t!(i18n, refusals.power_of_attorney, detail).into_any()
        }
        Refusal::Missing(code) => {
            let detail = super::lang::needs_text(i18n, &code);
            t!(i18n, refusals.missing, detail).into_any()
        }
        Refusal::Upload(code) => super::lang::upload_text(i18n, &format!("upload_{code}")).into_any(),
        Refusal::NoOffice => t!(i18n, refusals.no_office).into_any(),
        Refusal::Device(code) => {
            let detail = super::lang::device_text(i18n, &code);
            t!(i18n, refusals.device, detail).into_any()
        }
    }
}

/// A page-level error: the message, and a way back. Sets the HTTP status when rendered on the
/// server.
#[component]
pub fn ErrorPanel(error: ApiError) -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
    let login = matches!(error, ApiError::Unauthenticated | ApiError::SessionExpired);
    view! {
        <section class="panel error-panel" role="alert">
            <h1>{t!(i18n, errors.title)}</h1>
            <p class="error">{message(i18n, error)}</p>
            {if login {
                view! { <A href="/masuk">{t!(i18n, login.title)}</A> }.into_any()
            } else {
                view! { <A href="/">{t!(i18n, errors.back_home)}</A> }.into_any()
            }}
        </section>
    }
}
