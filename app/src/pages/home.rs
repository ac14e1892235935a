//! The home page: who is logged in, where, and what this version can and cannot do yet.

use leptos::prelude::*;
use leptos_router::components::A;
use simpul_domain::auth::Permission;

use super::{Guard, use_user};
use crate::components::lang::role_label;
use crate::components::layout::use_auth;
use crate::i18n::*;

/// "Beranda".
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewDashboard>
            <Home />
        </Guard>
    }
}

#[component]
fn Home() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_user();
    let auth = use_auth();
    let unit = move || auth.session.get().and_then(Result::ok).and_then(|s| s.unit);
    let name = user.display_name.clone();
    view! {
        <section class="panel">
            <h1>{t!(i18n, home.welcome, name = name.clone())}</h1>
            <dl class="facts">
                <dt>{t!(i18n, home.your_role)}</dt>
                <dd data-role=user.role.code()>{role_label(i18n, user.role)}</dd>
                <dt>{t!(i18n, home.office)}</dt>
                <dd>
                    {move || match unit() {
                        Some(u) => format!("{} ({})", u.name, u.code),
                        None => t_string!(i18n, home.not_enrolled).to_string(),
                    }}
                </dd>
            </dl>
            <p>
                <A href="/katalog" attr:class="button primary">
                    {t!(i18n, home.open_catalog)}
                </A>
            </p>
        </section>
        <section class="panel muted-panel" aria-labelledby="coming">
            <h2 id="coming">{t!(i18n, home.coming_title)}</h2>
            <p>{t!(i18n, home.coming_body)}</p>
        </section>
    }
}
