//! The page for addresses that do not exist (HTTP 404).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::*;

/// "Halaman tidak ditemukan".
#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="panel error-panel">
            <h1>{t!(i18n, errors.page_not_found)}</h1>
            <p>{t!(i18n, errors.page_not_found_detail)}</p>
            <A href="/">{t!(i18n, errors.back_home)}</A>
        </section>
    }
}
