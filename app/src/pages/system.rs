//! The system page: version, role, storage and hub link of this box.

use leptos::prelude::*;
use simpul_domain::auth::Permission;
use simpul_domain::office::BoxRole;

use super::Guard;
use crate::api::{LinkState, system_info};
use crate::components::errors::ErrorPanel;
use crate::components::lang::link_problem_text;
use crate::i18n::*;

/// "Sistem".
#[component]
pub fn SystemPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewSystem>
            <SystemFacts />
            <super::sync::SyncPanel />
        </Guard>
    }
}

#[component]
fn SystemFacts() -> impl IntoView {
    let i18n = use_i18n();
    let info = Resource::new(|| (), |_| system_info());
    view! {
        <section class="panel">
            <h1>{t!(i18n, system.title)}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(s) => {
                            let not_set = move || t_string!(i18n, system.not_set).to_string();
                            let link = match s.link.state {
                                LinkState::Online => "online",
                                LinkState::Offline => "offline",
                                LinkState::NotConfigured => "—",
                                LinkState::Checking => "…",
                                LinkState::Hub => "hub",
                            };
                            view! {
                                <dl class="facts">
                                    <dt>{t!(i18n, system.version)}</dt>
                                    <dd>{s.version}</dd>
                                    <dt>{t!(i18n, system.box_role)}</dt>
                                    <dd>
                                        {move || match s.box_role {
                                            BoxRole::Office => t_string!(i18n, system.role_office),
                                            BoxRole::Hub => t_string!(i18n, system.role_hub),
                                        }}
                                    </dd>
                                    <dt>{t!(i18n, system.office)}</dt>
                                    <dd>{s.unit.map(|u| format!("{} ({})", u.name, u.code)).unwrap_or_else(not_set)}</dd>
                                    <dt>{t!(i18n, system.zone)}</dt>
                                    <dd>{s.zone}</dd>
                                    <dt>{t!(i18n, system.data_dir)}</dt>
                                    <dd><code>{s.data_dir}</code></dd>
                                    <dt>{t!(i18n, system.database)}</dt>
                                    <dd>{format!("{:.1} MB", s.database_bytes as f64 / 1_048_576.0)}</dd>
                                    <dt>{t!(i18n, system.schema)}</dt>
                                    <dd>{s.schema_version}</dd>
                                    <dt>{t!(i18n, system.hub_url)}</dt>
                                    <dd>{s.hub_url.unwrap_or_else(not_set)}</dd>
                                    <dt>{t!(i18n, system.link)}</dt>
                                    <dd>{link}{s.link.since.map(|t| format!(" · {t}"))}</dd>
                                    <dt>{t!(i18n, system.last_check)}</dt>
                                    <dd>{s.link.last_check.unwrap_or_else(|| "—".into())}</dd>
                                    <dt>{t!(i18n, system.last_error)}</dt>
                                    <dd id="link-error">{match (s.link.error_code.as_deref(), s.link.error) {
                                        (Some(code), detail) => view! {
                                            {link_problem_text(i18n, code)}
                                            {detail.map(|d| view! { <br /><small class="muted">{d}</small> })}
                                        }.into_any(),
                                        (None, _) => view! { "—" }.into_any(),
                                    }}</dd>
                                </dl>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
