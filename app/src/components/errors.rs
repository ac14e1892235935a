//! Error messages in the user's language, and the panel that shows them.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::ApiError;
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
        ApiError::Internal => t!(i18n, errors.internal).into_any(),
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
