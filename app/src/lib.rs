//! The Simpul web UI: pages, components and translations, rendered on the server (feature
//! `ssr`) and hydrated in the browser (feature `hydrate`).
//!
//! Architecture invariant: no business rule and no storage here. Server functions are declared
//! in [`api`], carry the types of [`wire`] and call the method of their own name on the
//! `backend` the server provides (one trait per area); every one checks the caller's permission
//! on the server before doing anything.

#![forbid(unsafe_code)]
// `load_locales!` is deprecated upstream in favour of a build-script generator whose ICU data
// tooling is too heavy for this build machine; the macro generates the same code.
#![allow(deprecated)]

leptos_i18n::load_locales!();

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod biometric_client;
mod client;
mod components;
pub mod error;
mod pages;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::{Auth, Layout};
use crate::i18n::I18nContextProvider;

/// Name of the session cookie; also used to tell an expired session from none.
pub const SESSION_COOKIE: &str = "simpul_sesi";

/// Name of the language cookie.
pub const LANGUAGE_COOKIE: &str = "simpul_bahasa";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: language context, router, session, layout, pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let cookie_options = leptos_i18n::context::CookieOptions::default()
        .path("/")
        .same_site(cookie::SameSite::Strict)
        .max_age(365_i64 * 24 * 3600 * 1000);
    view! {
        <I18nContextProvider
            cookie_name=LANGUAGE_COOKIE
            cookie_options
            ssr_lang_header_getter=components::lang::indonesian_first()
        >
            <Title text="Simpul" />
            <Meta name="description" content="Simpul — layanan kependudukan kecamatan" />
            <Stylesheet id="simpul-css" href="/pkg/simpul.css" />
            <Link rel="icon" type_="image/svg+xml" href="/pkg/favicon.svg" />
            <Router>
                <Auth>
                    <Layout>
                        <Pages />
                    </Layout>
                </Auth>
            </Router>
        </I18nContextProvider>
    }
}

/// Every page and its address. Shared by [`App`] and [`RouteTable`], so the server's router
/// and the app cannot disagree on which addresses exist.
#[component]
fn Pages() -> impl IntoView {
    view! {
        <Routes fallback=pages::not_found::NotFound>
            <Route path=path!("/") view=pages::home::HomePage />
            <Route path=path!("/masuk") view=pages::login::LoginPage />
            <Route path=path!("/akun") view=pages::account::AccountPage />
            <Route path=path!("/katalog") view=pages::catalog::CatalogPage />
            <Route path=path!("/katalog/:id") view=pages::catalog::ServicePage />
            <Route path=path!("/pengguna") view=pages::staff::StaffPage />
            <Route path=path!("/sistem") view=pages::system::SystemPage />
            <Route path=path!("/perangkat") view=pages::devices::DevicesPage />
            <Route path=path!("/konflik") view=pages::sync::ConflictsPage />
            <Route path=path!("/kotak") view=pages::sync::BoxesPage />
            <Route path=path!("/kios") view=pages::kiosk::KioskPage />
            <Route path=path!("/layar") view=pages::display::DisplayPage />
            <Route path=path!("/loket") view=pages::counter::CounterPage />
            <Route path=path!("/permohonan") view=pages::applications::ApplicationsPage />
            <Route path=path!("/permohonan/baru") view=pages::applications::IntakePage />
            <Route path=path!("/permohonan/:id") view=pages::applications::ApplicationPage />
        </Routes>
    }
}

/// The routes alone, for the server to build its router from at start. `App` wraps the same
/// routes in the session, the layout and the hub-link banner, whose resources would be created
/// and then thrown away with the listing's reactive owner: their background tasks could then
/// read a disposed signal and panic a worker thread (seen at roughly one start in sixty).
#[component]
pub fn RouteTable() -> impl IntoView {
    view! {
        <Router>
            <Pages />
        </Router>
    }
}

/// Entry point of the WASM bundle: hydrates the server-rendered page, then marks `<body
/// data-hydrated>` so that styles and tests can tell a live page from plain HTML.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
