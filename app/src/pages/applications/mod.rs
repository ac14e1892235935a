//! Applications: the lists, intake (from a called ticket or directly), and the file of one
//! application with its checklist, uploads, biometric step, lifecycle steps and printouts.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use simpul_domain::auth::Permission;

mod biometrics;
mod capture;
mod file;
mod form;
mod intake;
mod steps;

pub use self::file::ApplicationPage;
pub use self::intake::IntakePage;
use super::Guard;

use crate::api::{ApplicationRow, list_applications, search_applications};
use crate::components::errors::ErrorPanel;

use crate::components::lang::{kind_label, sla_class, sla_text, status_text};

use crate::i18n::*;

/// "Permohonan": lists by state.
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewApplications>
            <Lists />
        </Guard>
    }
}

const LISTS: [&str; 7] = ["open", "mine", "to_verify", "returned", "centre", "ready", "closed"];

#[component]
fn Lists() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let user = super::use_user();
    let list = move || query.read().get("daftar").filter(|l| LISTS.contains(&l.as_str())).unwrap_or("open".into());
    let rows = Resource::new(list, list_applications);
    // A search (by NIK, number or name) replaces the list until another list is chosen. What
    // was typed is personal data: it stays in the page and the request body, never in an
    // address (the browser's history, a proxy's log).
    let searched = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        list();
        searched.set(None);
    });
    let found = Resource::new(
        move || searched.get(),
        |q| async move {
            match q {
                Some(q) => Some(search_applications(q).await),
                None => None,
            }
        },
    );
    let typed = RwSignal::new(String::new());
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = typed.get_untracked().trim().to_string();
        if !q.is_empty() {
            searched.set(Some(q));
        }
    };
    let label = move |l: &str| match l {
        "open" => t_string!(i18n, apps.list_open).to_string(),
        "mine" => t_string!(i18n, apps.list_mine).to_string(),
        "to_verify" => t_string!(i18n, apps.list_to_verify).to_string(),
        "returned" => t_string!(i18n, apps.list_returned).to_string(),
        "centre" => t_string!(i18n, apps.list_centre).to_string(),
        "ready" => t_string!(i18n, apps.list_ready).to_string(),
        _ => t_string!(i18n, apps.list_closed).to_string(),
    };
    let can_open = user.role.allows(Permission::TakeApplications);
    view! {
        <section>
            <div class="title-row">
                <h1>{t!(i18n, apps.title)}</h1>
                {can_open.then(|| view! { <A href="/permohonan/baru" attr:class="button primary" attr:id="new-application">{t!(i18n, apps.new)}</A> })}
            </div>
            <form class="search-row" role="search" on:submit=search>
                <label for="app-search">{t!(i18n, apps.search_label)}</label>" "
                <input id="app-search" type="search" minlength="3" maxlength="100" autocomplete="off"
                    placeholder=move || t_string!(i18n, apps.search_hint)
                    prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev)) />" "
                <button type="submit" id="app-search-go">{t!(i18n, apps.search)}</button>
            </form>
            <nav class="tabs" aria-label=move || t_string!(i18n, apps.title)>
                {LISTS
                    .into_iter()
                    .map(|l| {
                        view! {
                            <A href=format!("/permohonan?daftar={l}") attr:class=move || if list() == l { "tab active" } else { "tab" }>
                                {move || label(l)}
                            </A>
                        }
                    })
                    .collect_view()}
            </nav>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || match found.get() {
                    Some(Some(result)) => {
                        let q = searched.get_untracked().unwrap_or_default();
                        let shown_q = q.clone();
                        let shown = match result {
                            Ok(rows) => view! { <RowsTable rows /> }.into_any(),
                            Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                        };
                        view! {
                            <div id="search-results" data-q=q>
                                <h2>{t!(i18n, apps.search_results, q = shown_q)}</h2>
                                {shown}
                            </div>
                        }
                            .into_any()
                    }
                    _ => rows.get().map(|r| match r {
                        Ok(rows) => view! { <RowsTable rows /> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }).into_any(),
                }}
            </Transition>
        </section>
    }
}

/// A table of applications.
#[component]
pub fn RowsTable(rows: Vec<ApplicationRow>) -> impl IntoView {
    let i18n = use_i18n();
    if rows.is_empty() {
        return view! { <p class="muted">{t!(i18n, apps.empty)}</p> }.into_any();
    }
    view! {
        <table class="table applications">
            <thead>
                <tr>
                    <th>{t!(i18n, apps.number)}</th>
                    <th>{t!(i18n, apps.applicant)}</th>
                    <th>{t!(i18n, apps.service)}</th>
                    <th>{t!(i18n, apps.status)}</th>
                    <th>{t!(i18n, apps.due)}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| {
                        let sla = r.sla;
                        view! {
                            <tr data-status=r.status.code()>
                                <td><A href=format!("/permohonan/{}", r.id)>{r.number.clone()}</A></td>
                                <td>{r.name.clone()}</td>
                                <td>{kind_label(i18n, r.kind)}</td>
                                <td>{move || status_text(i18n, r.status)}</td>
                                <td class=sla_class(sla)>
                                    {r.due.clone().unwrap_or_default()}
                                    {sla.map(|s| {
                                        let status = r.status;
                                        view! { " " <span class="badge">{move || sla_text(i18n, s, status)}</span> }
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
