//! Sync: the box's sync panel (on the system page) and the hub's conflict inbox.

use leptos::prelude::*;
use simpul_domain::auth::Permission;

use super::Guard;
use crate::api::{
    ConflictView, conflicts, create_enroll_token, enrolled_boxes, resolve_conflict, revoke_box, sync_now, sync_status,
};
use crate::components::errors::ErrorPanel;
use crate::components::lang::link_problem_text;
use crate::components::layout::use_auth;
use crate::error::ApiError;
use crate::i18n::*;

fn kib(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// The sync state of an office box, refreshed every few seconds, with "sync now".
#[component]
pub fn SyncPanel() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let version = RwSignal::new(0u32);
    let status = Resource::new(move || version.get(), |_| sync_status());
    Effect::new(move |_| {
        // Cleared when the panel goes, so that visits do not pile up timers.
        if let Ok(handle) =
            set_interval_with_handle(move || version.update(|v| *v += 1), std::time::Duration::from_secs(3))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let csrf = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let start = Action::new(move |_: &()| {
        let csrf = csrf();
        async move { sync_now(csrf).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        if let Some(r) = start.value().get() {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    });
    view! {
        <section class="panel" id="sync">
            <h2>{t!(i18n, sync.title)}</h2>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || status.get().map(|s| match s {
                    Ok(s) if !s.enrolled => view! { <p class="muted">{t!(i18n, sync.not_enrolled)}</p> }.into_any(),
                    Ok(s) => view! {
                        <dl class="facts">
                            <dt>{t!(i18n, sync.state)}</dt>
                            <dd data-sync-running=s.running.to_string()>
                                {if s.running { t_string!(i18n, sync.running) } else { t_string!(i18n, sync.idle) }}
                                {s.running.then(|| view! {
                                    {if s.planned > 0 {
                                        let (value, max) = (s.bytes.min(s.planned), s.planned);
                                        view! {
                                            <progress aria-label=move || t_string!(i18n, sync.progress)
                                                value=value.to_string() max=max.to_string()></progress>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <progress aria-label=move || t_string!(i18n, sync.progress)></progress> }
                                            .into_any()
                                    }}
                                    {format!(" {} · {}", s.exchanges, kib(s.bytes))}
                                })}
                            </dd>
                            <dt>{t!(i18n, sync.waiting)}</dt>
                            <dd data-waiting=s.waiting_records.to_string()>
                                {t!(i18n, sync.waiting_value, records = s.waiting_records, size = kib(s.waiting_bytes))}
                            </dd>
                            <dt>{t!(i18n, sync.files)}</dt>
                            <dd data-waiting-files=s.waiting_files.to_string()>
                                {t!(i18n, sync.files_value, files = s.waiting_files, size = kib(s.waiting_file_bytes))}
                            </dd>
                            {s.slow_link_step.map(|step| view! {
                                <dt>{t!(i18n, sync.slow_link)}</dt>
                                <dd id="sync-slow-link">{t!(i18n, sync.slow_link_value, size = kib(step))}</dd>
                            })}
                            <dt>{t!(i18n, sync.certificate)}</dt>
                            <dd id="sync-certificate" class=if s.certificate_renew { "warning" } else { "" }>
                                {s.certificate_expires.clone().unwrap_or_else(|| "—".into())}
                                {s.certificate_renew.then(|| view! { " — " {t!(i18n, sync.certificate_renew)} })}
                            </dd>
                            <dt>{t!(i18n, sync.last_success)}</dt>
                            <dd>{s.last_success.unwrap_or_else(|| "—".into())}</dd>
                            <dt>{t!(i18n, sync.last_error)}</dt>
                            <dd class="error-text" id="sync-error" data-code=s.last_error_code.clone()>
                                {match (s.last_error_code.as_deref(), s.last_error) {
                                    (Some(code), detail) => view! {
                                        {link_problem_text(i18n, code)}
                                        {detail.map(|d| view! { <br /><small class="muted">{d}</small> })}
                                    }.into_any(),
                                    (None, Some(detail)) => view! { {detail} }.into_any(),
                                    (None, None) => view! { "—" }.into_any(),
                                }}
                            </dd>
                        </dl>
                        <button on:click=move |_| { start.dispatch(()); }>{t!(i18n, sync.now)}</button>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                })}
            </Transition>
            {move || error.get().map(|e| view! { <ErrorPanel error=e /> })}
        </section>
    }
}

/// "Konflik": the regency admin's inbox.
#[component]
pub fn ConflictsPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ResolveConflicts>
            <Inbox />
        </Guard>
    }
}

#[component]
fn Inbox() -> impl IntoView {
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let cases = Resource::new(move || version.get(), |_| conflicts());
    view! {
        <section class="panel">
            <h1>{t!(i18n, conflict.title)}</h1>
            <p class="muted">{t!(i18n, conflict.intro)}</p>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || cases.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="ok" id="no-conflicts">{t!(i18n, conflict.none)}</p> }.into_any(),
                    Ok(list) => list
                        .into_iter()
                        .map(|c| view! { <Case case=c done=move || version.update(|v| *v += 1) /> })
                        .collect_view()
                        .into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Case(case: ConflictView, done: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let choice = RwSignal::new(String::new());
    let corrected = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = case.id;
    let revision = case.revision.clone();
    let csrf = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let settle = Action::new(move |_: &()| {
        // A candidate is kept by its place in the case; "__other" sends the corrected text.
        let keep = choice.get_untracked().parse::<u32>().ok();
        let (csrf, reason, corrected, seen) =
            (csrf(), reason.get_untracked(), corrected.get_untracked(), revision.clone());
        async move { resolve_conflict(csrf, id, keep, corrected, seen, reason).await }
    });
    Effect::new(move |_| {
        if let Some(r) = settle.value().get() {
            match r {
                Ok(()) => done(),
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let name = format!("case-{id}");
    let cross = case.field.contains('@');
    let options = case
        .candidates
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let input_id = format!("case-{id}-{i}");
            let shown = if v.value == "null" { t_string!(i18n, conflict.empty).to_string() } else { v.value.clone() };
            view! {
                <tr>
                    <td>
                        <input type="radio" id=input_id.clone() name=name.clone() value=i.to_string()
                            on:change=move |_| choice.set(i.to_string()) />
                        <label for=input_id><strong>{shown}</strong></label>
                    </td>
                    <td>{v.source.clone()}</td>
                    <td>{v.by.clone()}</td>
                    <td>{v.at.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let history = case.history.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view();
    view! {
        <article class="case" data-field=case.field.clone()>
            <h2>
                {format!("#{} · ", case.id)}
                <a href=format!("/permohonan/{}", case.application)>{case.number.clone()}</a>
                {format!(" · {} · ", case.office)}
                <code>{case.field.clone()}</code>
            </h2>
            <p class="muted">{t!(i18n, conflict.detected, at = case.detected_at.clone())}</p>
            {cross.then(|| view! { <p>{t!(i18n, conflict.cross_office)}</p> })}
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, conflict.value)}</th>
                        <th>{t!(i18n, conflict.source)}</th>
                        <th>{t!(i18n, conflict.by)}</th>
                        <th>{t!(i18n, conflict.at)}</th>
                    </tr>
                </thead>
                <tbody>{options}</tbody>
            </table>
            {if case.correctable {
                view! {
                    <p>
                        <input type="radio" id=format!("case-{id}-other") name=name.clone() value="__other"
                            on:change=move |_| choice.set("__other".into()) />
                        <label for=format!("case-{id}-other")>{t!(i18n, conflict.other)}</label>
                        " "
                        <input type="text" aria-label=move || t_string!(i18n, conflict.other)
                            prop:value=corrected on:input=move |ev| { corrected.set(event_target_value(&ev)); choice.set("__other".into()); } />
                    </p>
                }
                    .into_any()
            } else {
                view! { <p class="muted keep-only">{t!(i18n, conflict.keep_only)}</p> }.into_any()
            }}
            <p>
                <label for=format!("case-{id}-reason")>{t!(i18n, conflict.reason)}</label>
                <textarea id=format!("case-{id}-reason") required
                    prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
            </p>
            <button disabled=move || choice.get().is_empty() || reason.get().trim().chars().count() < 5
                on:click=move |_| { settle.dispatch(()); }>
                {t!(i18n, conflict.settle)}
            </button>
            {move || error.get().map(|e| view! { <ErrorPanel error=e /> })}
            <details>
                <summary>{t!(i18n, conflict.history)}</summary>
                <ol>{history}</ol>
            </details>
        </article>
    }
}

/// "Kotak kantor": enrollment tokens and enrolled boxes (regency admin, on the hub).
#[component]
pub fn BoxesPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ManageBoxes>
            <Boxes />
        </Guard>
    }
}

#[component]
fn Boxes() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| enrolled_boxes());
    let office = RwSignal::new(String::new());
    let hours = RwSignal::new(72u32);
    let token = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let csrf = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let create = Action::new(move |_: &()| {
        let (csrf, office, hours) = (csrf(), office.get_untracked(), hours.get_untracked());
        async move { create_enroll_token(csrf, office, hours).await }
    });
    Effect::new(move |_| {
        if let Some(r) = create.value().get() {
            match r {
                Ok(t) => {
                    token.set(Some(t));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let revoke = Action::new(move |(office, fingerprint): &(String, String)| {
        let (csrf, office, fingerprint) = (csrf(), office.clone(), fingerprint.clone());
        async move { revoke_box(csrf, office, fingerprint).await }
    });
    Effect::new(move |_| {
        if let Some(r) = revoke.value().get() {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    });
    view! {
        <section class="panel">
            <h1>{t!(i18n, boxes.title)}</h1>
            <form on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                <label for="enroll-office">{t!(i18n, boxes.office)}</label>
                <input id="enroll-office" required placeholder="51.03.02" prop:value=office
                    on:input=move |ev| office.set(event_target_value(&ev)) />
                <label for="enroll-hours">{t!(i18n, boxes.hours)}</label>
                <input id="enroll-hours" type="number" min="1" max="720" prop:value=move || hours.get().to_string()
                    on:input=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(72)) />
                <button type="submit">{t!(i18n, boxes.create)}</button>
            </form>
            {move || token.get().map(|t| view! {
                <div class="notice" role="status">
                    <p>{t!(i18n, boxes.token_once)}</p>
                    <p><code id="enroll-token">{t.clone()}</code></p>
                    <p class="muted"><code>{format!("simpul enroll --hub https://HUB:3443 --token {t}")}</code></p>
                </div>
            })}
            {move || error.get().map(|e| view! { <ErrorPanel error=e /> })}
        </section>
        <section class="panel">
            <h2>{t!(i18n, boxes.enrolled)}</h2>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || list.get().map(|r| match r {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">{t!(i18n, boxes.none)}</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="grid">
                            <thead>
                                <tr>
                                    <th>{t!(i18n, boxes.office)}</th>
                                    <th>{t!(i18n, boxes.fingerprint)}</th>
                                    <th>{t!(i18n, boxes.enrolled_at)}</th>
                                    <th>{t!(i18n, boxes.last_seen)}</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|b| {
                                    let target = (b.office.clone(), b.fingerprint.clone());
                                    view! {
                                        <tr>
                                            <td>{b.office.clone()}</td>
                                            <td><code>{b.fingerprint.clone()}</code></td>
                                            <td>{b.enrolled_at.clone()}</td>
                                            <td>{b.last_seen.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td>
                                                {if b.revoked {
                                                    view! { <span class="muted">{t!(i18n, boxes.revoked)}</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button class="secondary-dark" on:click=move |_| { revoke.dispatch(target.clone()); }>
                                                            {t!(i18n, boxes.revoke)}
                                                        </button>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
