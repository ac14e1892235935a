//! The counter desk (petugas loket): open the counter, call the next ticket, recall, start,
//! finish, skip or transfer, call a skipped ticket again when its holder turns up, and start an
//! application from the ticket being served.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use simpul_domain::auth::Permission;

use super::Guard;
use crate::api::{
    CounterDesk, TicketView, counter_act, counter_call, counter_call_again, counter_open, get_counter_desk,
};
use crate::components::errors::{ErrorPanel, message};
use crate::components::layout::use_auth;
use crate::error::ApiError;
use crate::i18n::*;

/// "Loket".
#[component]
pub fn CounterPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ServeCounter>
            <Desk />
        </Guard>
    }
}

#[component]
fn Desk() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let query = use_query_map();
    let csrf = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let chosen = RwSignal::new(query.read_untracked().get("loket").unwrap_or_default());
    let version = RwSignal::new(0u32);
    let desk = Resource::new(move || version.get(), |_| get_counter_desk());
    Effect::new(move |_| {
        // Cleared when the page goes, so that visits do not pile up timers.
        if let Ok(handle) =
            set_interval_with_handle(move || version.update(|v| *v += 1), std::time::Duration::from_secs(10))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let done = move |result: Option<Result<(), ApiError>>| {
        if let Some(r) = result {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    };
    let open = Action::new(move |(counter, open): &(String, bool)| {
        let (counter, open, csrf) = (counter.clone(), *open, csrf());
        async move { counter_open(csrf, counter, open).await }
    });
    Effect::new(move |_| done(open.value().get()));
    let call = Action::new(move |counter: &String| {
        let (counter, csrf) = (counter.clone(), csrf());
        async move { counter_call(csrf, counter).await.map(|_| ()) }
    });
    Effect::new(move |_| done(call.value().get()));
    let act = Action::new(
        move |(ticket, action, to_counter, to_service): &(String, String, Option<String>, Option<String>)| {
            let (ticket, action, to_counter, to_service, csrf) =
                (ticket.clone(), action.clone(), to_counter.clone(), to_service.clone(), csrf());
            async move { counter_act(csrf, ticket, action, to_counter, to_service).await.map(|_| ()) }
        },
    );
    Effect::new(move |_| done(act.value().get()));
    let call_again = Action::new(move |(counter, ticket): &(String, String)| {
        let (counter, ticket, csrf) = (counter.clone(), ticket.clone(), csrf());
        async move { counter_call_again(csrf, counter, ticket).await.map(|_| ()) }
    });
    Effect::new(move |_| done(call_again.value().get()));

    let body = move || {
        let desk: CounterDesk = match desk.get()? {
            Ok(d) => d,
            Err(e) => return Some(view! { <ErrorPanel error=e /> }.into_any()),
        };
        if chosen.get().is_empty()
            && let Some(first) = desk.counters.first()
        {
            chosen.set(first.id.clone());
        }
        let current_id = chosen.get();
        let counter = desk.counters.iter().find(|c| c.id == current_id).cloned();
        let counter_options = desk
            .counters
            .iter()
            .map(|c| view! { <option value=c.id.clone() selected=c.id == current_id>{c.name.clone()}</option> })
            .collect_view();
        let waiting = desk.waiting.clone();
        let no_shows = desk.no_shows.clone();
        // A ticket is called again to the chosen counter when it is open and free.
        let free = counter.as_ref().is_some_and(|c| c.open && c.current.is_none());
        let services = desk.services.clone();
        let others: Vec<(String, String)> =
            desk.counters.iter().filter(|c| c.id != current_id).map(|c| (c.id.clone(), c.name.clone())).collect();
        Some(
            view! {
                <div class="desk">
                    <div class="panel">
                        <label for="counter-select">{t!(i18n, counter.counter)}</label>
                        <select id="counter-select" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {counter_options}
                        </select>
                        {counter.map(|c| {
                            let (id_open, id_close, id_call) = (c.id.clone(), c.id.clone(), c.id.clone());
                            view! {
                                <p class="counter-state" data-open=c.open.to_string()>
                                    {if c.open {
                                        view! { <span class="ok">{t!(i18n, counter.open_now)}</span> }.into_any()
                                    } else {
                                        view! { <span class="muted">{t!(i18n, counter.closed_now)}</span> }.into_any()
                                    }}
                                    {c.staff.clone().map(|s| format!(" · {s}"))}
                                </p>
                                {if c.open {
                                    view! {
                                        <button class="secondary-dark" on:click=move |_| { open.dispatch((id_close.clone(), false)); }>
                                            {t!(i18n, counter.close)}
                                        </button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button class="primary" on:click=move |_| { open.dispatch((id_open.clone(), true)); }>
                                            {t!(i18n, counter.open)}
                                        </button>
                                    }.into_any()
                                }}
                                <CurrentTicket current=c.current.clone() act others=others.clone() services=services.clone() />
                                {(c.open && c.current.is_none()).then(|| view! {
                                    <button class="primary big" id="call-next" disabled=move || call.pending().get()
                                        on:click=move |_| { call.dispatch(id_call.clone()); }>
                                        {t!(i18n, counter.call_next)}
                                    </button>
                                })}
                            }
                        })}
                        {move || error.get().map(|e| view! { <p class="error" role="alert">{message(i18n, e)}</p> })}
                    </div>
                    <div class="panel">
                        <h2>{t!(i18n, counter.waiting)}" ("{waiting.len()}")"</h2>
                        <ul class="waiting-list">
                            {waiting
                                .into_iter()
                                .map(|t| view! {
                                    <li class:priority=t.lane != "normal">
                                        <strong>{t.number}</strong>" "{t.service}" · "{t.issued}
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                        <h2>{t!(i18n, counter.no_shows)}" ("{no_shows.len()}")"</h2>
                        {no_shows.is_empty().then(|| view! { <p class="muted">{t!(i18n, counter.no_shows_none)}</p> })}
                        {(!no_shows.is_empty() && !free).then(|| view! { <p class="muted">{t!(i18n, counter.call_again_hint)}</p> })}
                        <ul class="waiting-list" id="no-shows">
                            {no_shows
                                .into_iter()
                                .map(|t| {
                                    let args = (current_id.clone(), t.id.clone());
                                    let number = t.number.clone();
                                    view! {
                                        <li data-ticket=number>
                                            <strong>{t.number}</strong>" "{t.service}" · "{t.issued}" "
                                            <button class="small" disabled=move || !free || call_again.pending().get()
                                                on:click=move |_| { call_again.dispatch(args.clone()); }>
                                                {t!(i18n, counter.call_again)}
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </div>
                </div>
            }
            .into_any(),
        )
    };
    view! {
        <section>
            <h1>{t!(i18n, counter.title)}</h1>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>{body}</Transition>
        </section>
    }
}

type ActArgs = (String, String, Option<String>, Option<String>);

#[component]
fn CurrentTicket(
    current: Option<TicketView>,
    act: Action<ActArgs, Result<(), ApiError>>,
    others: Vec<(String, String)>,
    services: Vec<crate::api::KioskService>,
) -> impl IntoView {
    let i18n = use_i18n();
    let Some(t) = current else {
        return view! { <p class="muted">{t!(i18n, counter.no_current)}</p> }.into_any();
    };
    let id = t.id.clone();
    let button = move |action: &'static str, label: AnyView, class: &'static str| {
        let id = id.clone();
        view! {
            <button class=class on:click=move |_| { act.dispatch((id.clone(), action.to_string(), None, None)); }>{label}</button>
        }
    };
    let serving = t.state == "serving";
    let transfer_to = RwSignal::new(String::new());
    let transfer_service = RwSignal::new(String::new());
    let tid = t.id.clone();
    let intake = format!("/permohonan/baru?tiket={}&layanan={}", t.id, t.service_id);
    view! {
        <div class="current-ticket" data-state=t.state.clone()>
            <p class="big-number" id="current-number">{t.number.clone()}</p>
            <p>{t.service.clone()}</p>
            <div class="button-row">
                {if serving {
                    view! {
                        {button("finish", t!(i18n, counter.finish).into_any(), "primary")}
                        <A href=intake attr:class="button">{t!(i18n, counter.open_application)}</A>
                    }.into_any()
                } else {
                    view! {
                        {button("start", t!(i18n, counter.start).into_any(), "primary")}
                        {button("recall", t!(i18n, counter.recall).into_any(), "")}
                        {button("skip", t!(i18n, counter.skip).into_any(), "warn")}
                    }.into_any()
                }}
            </div>
            <details class="transfer">
                <summary>{t!(i18n, counter.transfer)}</summary>
                <label for="transfer-counter">{t!(i18n, counter.transfer_counter)}</label>
                <select id="transfer-counter" on:change=move |ev| transfer_to.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {others.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
                <label for="transfer-service">{t!(i18n, counter.transfer_service)}</label>
                <select id="transfer-service" on:change=move |ev| transfer_service.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {services.into_iter().map(|s| view! { <option value=s.id>{s.title}</option> }).collect_view()}
                </select>
                <button on:click=move |_| {
                    let counter = Some(transfer_to.get()).filter(|s| !s.is_empty());
                    let service = Some(transfer_service.get()).filter(|s| !s.is_empty());
                    act.dispatch((tid.clone(), "transfer".into(), counter, service));
                }>{t!(i18n, counter.transfer_do)}</button>
            </details>
        </div>
    }
    .into_any()
}
