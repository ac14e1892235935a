//! The banner that tells staff whether the office is linked to the regency hub, refreshed in
//! the browser every 15 seconds.

use leptos::prelude::*;

use crate::api::{LinkState, hub_link};
use crate::components::lang::link_problem_text;
use crate::i18n::*;

/// How often the browser asks the server about the hub link (the server checks the hub itself).
const REFRESH_SECS: u64 = 15;

/// "Terhubung" / "Luring sejak 14:05 WITA" / "Hub belum diatur".
#[component]
pub fn LinkBanner() -> impl IntoView {
    let i18n = use_i18n();
    let tick = RwSignal::new(0u32);
    let link = Resource::new(move || tick.get(), |_| hub_link());
    Effect::new(move |_| {
        set_interval(move || tick.update(|t| *t = t.wrapping_add(1)), std::time::Duration::from_secs(REFRESH_SECS));
    });
    let body = move || {
        let view = link.get()?.ok()?;
        let (class, text) = match view.state {
            LinkState::Online => ("online", t!(i18n, link.online).into_any()),
            LinkState::Offline => match view.since.clone() {
                Some(time) => ("offline", t!(i18n, link.offline_since, time).into_any()),
                None => ("offline", t!(i18n, link.offline_never).into_any()),
            },
            LinkState::NotConfigured => ("unset", t!(i18n, link.not_configured).into_any()),
            LinkState::Checking => ("unset", t!(i18n, link.checking).into_any()),
            LinkState::Hub => ("hub", t!(i18n, link.hub).into_any()),
        };
        Some(view! {
            <p class=format!("link link-{class}") data-state=class role="status"
                title=view.error_code.as_deref().map(|code| link_problem_text(i18n, code)).unwrap_or_default()>
                <span class="dot" aria-hidden="true"></span>
                {text}
            </p>
        })
    };
    view! { <Transition>{body}</Transition> }
}
