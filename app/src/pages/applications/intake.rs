//! Intake: opening an application from a called ticket or directly, with a proxy when one applies.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use simpul_domain::auth::Permission;

use super::form::{ApplicantFields, Problems, problems_of};
use crate::api::{ApplicantForm, IntakeForm, ProxyForm, get_intake, open_application};
use crate::components::errors::{ErrorPanel, message};
use crate::components::layout::csrf_getter;
use crate::error::ApiError;
use crate::pages::Guard;

use crate::i18n::*;

/// "Permohonan baru".
#[component]
pub fn IntakePage() -> impl IntoView {
    view! {
        <Guard permission=Permission::TakeApplications>
            <Intake />
        </Guard>
    }
}

#[component]
pub(super) fn Intake() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let ticket = query.read_untracked().get("tiket");
    let service = RwSignal::new(query.read_untracked().get("layanan").unwrap_or_default());
    let intake = Resource::new(move || ticket.clone(), get_intake);
    let form =
        RwSignal::new(ApplicantForm { sex: String::new(), permit_kind: "itap".into(), ..ApplicantForm::default() });
    let with_proxy = RwSignal::new(false);
    let proxy = RwSignal::new(ProxyForm { submit: true, ..ProxyForm::default() });
    let problems: Problems = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<ApiError>);
    let client_id = StoredValue::new(crate::client::fresh_id());
    let csrf = csrf_getter();
    let navigate = use_navigate();
    let ticket_id = query.read_untracked().get("tiket");
    let submit = leptos::prelude::Action::new(move |_: &()| {
        let request = IntakeForm {
            service_id: service.get_untracked(),
            ticket: ticket_id.clone(),
            applicant: form.get_untracked(),
            proxy: with_proxy.get_untracked().then(|| proxy.get_untracked()),
        };
        let (csrf, client_id) = (csrf(), client_id.get_value());
        async move { open_application(csrf, client_id, request).await }
    });
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(id)) => navigate(&format!("/permohonan/{id}"), Default::default()),
        Some(Err(e)) => {
            problems.set(problems_of(&e));
            error.set(Some(e));
        }
        None => {}
    });
    let body = move || {
        let view = match intake.get()? {
            Ok(v) => v,
            Err(e) => return Some(view! { <ErrorPanel error=e /> }.into_any()),
        };
        if form.with_untracked(|f| f.region.is_empty()) {
            form.update(|f| f.region = view.office_code.clone());
        }
        let services = StoredValue::new(view.services.clone());
        let requirements = move || {
            let chosen = service.get();
            services.with_value(|all| {
                all.iter().find(|s| s.id == chosen).map(|s| s.requirements.clone()).unwrap_or_default()
            })
        };
        let options = view
            .services
            .iter()
            .map(|s| {
                let id = s.id.clone();
                view! { <option value=id.clone() selected=move || service.get() == id>{s.title.clone()}</option> }
            })
            .collect_view();
        Some(
            view! {
                {view.ticket_number.clone().map(|number| view! { <p class="ticket-badge">{t!(i18n, intake.from_ticket, number)}</p> })}
                <form class="panel intake" on:submit=move |ev| { ev.prevent_default(); submit.dispatch(()); }>
                    <div class="field">
                        <label for="service">{t!(i18n, intake.service)}</label>
                        <select id="service" required on:change=move |ev| service.set(event_target_value(&ev))>
                            <option value="">{t!(i18n, intake.choose)}</option>
                            {options}
                        </select>
                    </div>
                    <Show when=move || !requirements().is_empty()>
                        <details class="requirements" open>
                            <summary>{t!(i18n, intake.requirements)}</summary>
                            <ol>{move || requirements().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ol>
                        </details>
                    </Show>
                    <h2>{t!(i18n, intake.applicant)}</h2>
                    <ApplicantFields form problems />
                    <div class="field checkbox">
                        <input id="with-proxy" type="checkbox" prop:checked=with_proxy
                            on:change=move |ev| with_proxy.set(event_target_checked(&ev)) />
                        <label for="with-proxy">{t!(i18n, intake.proxy)}</label>
                    </div>
                    <Show when=move || with_proxy.get()>
                        <ProxyFields proxy />
                    </Show>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{message(i18n, e)}</p> })}
                    <button type="submit" class="primary" id="open-application" disabled=move || submit.pending().get()>
                        {t!(i18n, intake.open)}
                    </button>
                </form>
            }
            .into_any(),
        )
    };
    view! {
        <section>
            <h1>{t!(i18n, intake.title)}</h1>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>{body}</Transition>
        </section>
    }
}

#[component]
pub(super) fn ProxyFields(proxy: RwSignal<ProxyForm>) -> impl IntoView {
    let i18n = use_i18n();
    macro_rules! input {
        ($field:ident, $label:expr, $kind:literal) => {
            view! {
                <div class="field">
                    <label for=concat!("proxy_", stringify!($field))>{$label}</label>
                    <input id=concat!("proxy_", stringify!($field)) type=$kind
                        prop:value=move || proxy.with(|p| p.$field.clone())
                        on:input=move |ev| proxy.update(|p| p.$field = event_target_value(&ev)) />
                </div>
            }
        };
    }
    view! {
        <div class="form-grid proxy">
            {input!(nik, t!(i18n, intake.proxy_nik), "text")}
            {input!(name, t!(i18n, intake.proxy_name), "text")}
            {input!(valid_from, t!(i18n, intake.valid_from), "date")}
            {input!(valid_until, t!(i18n, intake.valid_until), "date")}
            {input!(reason, t!(i18n, intake.proxy_reason), "text")}
            <div class="field checkbox">
                <input id="proxy_submit" type="checkbox" prop:checked=move || proxy.with(|p| p.submit)
                    on:change=move |ev| proxy.update(|p| p.submit = event_target_checked(&ev)) />
                <label for="proxy_submit">{t!(i18n, intake.proxy_submit)}</label>
            </div>
            <div class="field checkbox">
                <input id="proxy_pickup" type="checkbox" prop:checked=move || proxy.with(|p| p.pickup)
                    on:change=move |ev| proxy.update(|p| p.pickup = event_target_checked(&ev)) />
                <label for="proxy_pickup">{t!(i18n, intake.proxy_pickup)}</label>
            </div>
        </div>
    }
}
