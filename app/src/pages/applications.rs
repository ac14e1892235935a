//! Applications: the lists, intake (from a called ticket or directly), and the file of one
//! application with its checklist, uploads, biometric step, lifecycle steps and printouts.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use simpul_domain::application::{Action, Status};
use simpul_domain::attachment::RequirementKind;
use simpul_domain::auth::Permission;

use super::Guard;
use crate::api::{
    ApplicantForm, ApplicationRow, ApplicationView, IntakeForm, ProxyForm, StepForm, application_step,
    confirm_requirement, get_application, get_intake, list_applications, open_application, search_applications,
    update_applicant,
};
use crate::components::errors::{ErrorPanel, message};
use crate::components::lang::{
    action_text, exception_text, field_text, finger_text, kind_label, problem_text, settled_field_text, sla_class,
    sla_text, status_text, upload_text,
};
use crate::components::layout::use_auth;
use crate::error::{ApiError, Refusal};
use crate::i18n::*;

fn csrf_getter() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let auth = use_auth();
    move || auth.session.get_untracked().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

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
    // A search (by NIK, number or name) replaces the list while `cari` is in the address.
    let searched = move || query.read().get("cari").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let found = Resource::new(searched, |q| async move {
        match q {
            Some(q) => Some(search_applications(q).await),
            None => None,
        }
    });
    let typed = RwSignal::new(String::new());
    let navigate = use_navigate();
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = typed.get_untracked();
        let q = q.trim();
        if !q.is_empty() {
            navigate(&format!("/permohonan?cari={}", super::urlencode(q)), Default::default());
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
                        let q = searched().unwrap_or_default();
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

// ---------------------------------------------------------------------------------------------
// The applicant form (intake and corrections)
// ---------------------------------------------------------------------------------------------

type Problems = RwSignal<Vec<(String, String, String)>>;

fn field_error(i18n: leptos_i18n::I18nContext<Locale>, problems: Problems, field: &'static str) -> impl IntoView {
    move || {
        problems
            .get()
            .into_iter()
            .filter(|(f, _, _)| f == field)
            .map(|(_, p, d)| view! { <span class="field-error" role="alert">{problem_text(i18n, &p, &d)}</span> })
            .collect_view()
    }
}

macro_rules! text_input {
    ($i18n:expr, $form:expr, $problems:expr, $field:ident, $code:literal, $label:expr, $kind:literal) => {{
        let (form, problems) = ($form, $problems);
        view! {
            <div class="field" class:invalid=move || problems.get().iter().any(|(f, _, _)| f == $code)>
                <label for=stringify!($field)>{$label}</label>
                <input
                    id=stringify!($field)
                    type=$kind
                    prop:value=move || form.with(|f: &ApplicantForm| f.$field.clone())
                    on:input=move |ev| form.update(|f: &mut ApplicantForm| f.$field = event_target_value(&ev))
                />
                {field_error($i18n, problems, $code)}
            </div>
        }
    }};
}

#[component]
fn ApplicantFields(form: RwSignal<ApplicantForm>, problems: Problems) -> impl IntoView {
    let i18n = use_i18n();
    let foreign = move || form.with(|f| f.foreign);
    view! {
        <div class="form-grid">
            {text_input!(i18n, form, problems, nik, "nik", move || field_text(i18n, "nik"), "text")}
            {text_input!(i18n, form, problems, name, "name", move || field_text(i18n, "name"), "text")}
            <div class="field" class:invalid=move || problems.get().iter().any(|(f, _, _)| f == "sex")>
                <label for="sex">{move || field_text(i18n, "sex")}</label>
                <select id="sex" prop:value=move || form.with(|f| f.sex.clone())
                    on:change=move |ev| form.update(|f| f.sex = event_target_value(&ev))>
                    <option value="">"—"</option>
                    <option value="male">{t!(i18n, intake.male)}</option>
                    <option value="female">{t!(i18n, intake.female)}</option>
                </select>
                {field_error(i18n, problems, "sex")}
            </div>
            {text_input!(i18n, form, problems, birth_place, "birth_place", move || field_text(i18n, "birth_place"), "text")}
            {text_input!(i18n, form, problems, birth_date, "birth_date", move || field_text(i18n, "birth_date"), "date")}
            <div class="field" class:invalid=move || problems.get().iter().any(|(f, _, _)| f == "marital")>
                <label for="marital">{move || field_text(i18n, "marital")}</label>
                <select id="marital" prop:value=move || form.with(|f| f.marital.clone())
                    on:change=move |ev| form.update(|f| f.marital = event_target_value(&ev))>
                    <option value="">"—"</option>
                    <option value="single">{t!(i18n, intake.single)}</option>
                    <option value="married">{t!(i18n, intake.married)}</option>
                    <option value="divorced">{t!(i18n, intake.divorced)}</option>
                    <option value="widowed">{t!(i18n, intake.widowed)}</option>
                </select>
                {field_error(i18n, problems, "marital")}
            </div>
            {text_input!(i18n, form, problems, address, "address", move || field_text(i18n, "address"), "text")}
            {text_input!(i18n, form, problems, region, "region", move || field_text(i18n, "region"), "text")}
            {text_input!(i18n, form, problems, kk_number, "kk_number", move || field_text(i18n, "kk_number"), "text")}
            {text_input!(i18n, form, problems, phone, "phone", move || field_text(i18n, "phone"), "tel")}
            {text_input!(i18n, form, problems, email, "email", move || field_text(i18n, "email"), "email")}
            <div class="field checkbox">
                <input id="foreign" type="checkbox" prop:checked=foreign
                    on:change=move |ev| form.update(|f| f.foreign = event_target_checked(&ev)) />
                <label for="foreign">{t!(i18n, intake.foreign)}</label>
            </div>
        </div>
        <Show when=foreign>
            <div class="form-grid foreign">
                {text_input!(i18n, form, problems, country, "nationality", move || field_text(i18n, "nationality"), "text")}
                {text_input!(i18n, form, problems, passport_number, "passport", move || t_string!(i18n, intake.passport_number).to_string(), "text")}
                {text_input!(i18n, form, problems, passport_expires, "passport", move || t_string!(i18n, intake.passport_expires).to_string(), "date")}
                <div class="field">
                    <label for="permit_kind">{t!(i18n, intake.permit_kind)}</label>
                    <select id="permit_kind" prop:value=move || form.with(|f| f.permit_kind.clone())
                        on:change=move |ev| form.update(|f| f.permit_kind = event_target_value(&ev))>
                        <option value="itap">"ITAP"</option>
                        <option value="kitap">"KITAP"</option>
                    </select>
                </div>
                {text_input!(i18n, form, problems, permit_number, "permit", move || t_string!(i18n, intake.permit_number).to_string(), "text")}
                {text_input!(i18n, form, problems, permit_expires, "permit", move || t_string!(i18n, intake.permit_expires).to_string(), "date")}
            </div>
        </Show>
    }
}

fn problems_of(e: &ApiError) -> Vec<(String, String, String)> {
    match e {
        ApiError::Refused(Refusal::Fields(f)) => f.clone(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Intake
// ---------------------------------------------------------------------------------------------

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
fn Intake() -> impl IntoView {
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
fn ProxyFields(proxy: RwSignal<ProxyForm>) -> impl IntoView {
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

// ---------------------------------------------------------------------------------------------
// One application
// ---------------------------------------------------------------------------------------------

/// "/permohonan/:id".
#[component]
pub fn ApplicationPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewApplications>
            <File />
        </Guard>
    }
}

#[component]
fn File() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let version = RwSignal::new(0u32);
    let app = Resource::new(move || (id(), version.get()), |(id, _)| get_application(id));
    // The page is drawn again after every capture: the fingers and eyes staff ticked live here,
    // above it, so ticks not recorded yet are not lost.
    provide_context(CaptureChoices::default());
    let notice = move || {
        let q = query.read();
        if let Some(code) = q.get("galat") {
            Some(view! { <p class="error" role="alert" id="upload-result">{upload_text(i18n, &code)}</p> }.into_any())
        } else if q.get("unggah").is_some() {
            Some(view! { <p class="ok" role="status" id="upload-result">{t!(i18n, upload.ok)}</p> }.into_any())
        } else {
            None
        }
    };
    let body = move || {
        let app = match app.get()? {
            Ok(a) => a,
            Err(e) => return Some(view! { <ErrorPanel error=e /> }.into_any()),
        };
        Some(view! { <FileView app version /> }.into_any())
    };
    view! {
        <section>
            {notice}
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>{body}</Transition>
        </section>
    }
}

#[component]
fn FileView(app: ApplicationView, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let csrf_value = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let status = app.status;
    let sla = app.sla;
    let id = app.id.clone();
    let a = app.clone();
    let applicant = app.applicant.clone();
    let editing = RwSignal::new(false);
    let (edit_id, edit_form) = (app.id.clone(), app.applicant.clone());
    view! {
        <div class="title-row">
            <h1>
                <span id="app-number">{app.number.clone()}</span>
                " · "
                <span id="app-status" data-status=status.code()>{move || status_text(i18n, status)}</span>
            </h1>
        </div>
        <dl class="facts">
            <dt>{t!(i18n, apps.service)}</dt><dd>{app.service.clone()}</dd>
            <dt>{t!(i18n, app.opened)}</dt><dd>{format!("{} · {}", app.opened, app.opened_by)}</dd>
            {app.ticket.clone().map(|t| view! { <dt>{t!(i18n, app.ticket)}</dt><dd>{t}</dd> })}
            <dt>{t!(i18n, apps.due)}</dt>
            <dd class=sla_class(sla)>
                {app.due.clone().unwrap_or_else(|| "—".into())}
                {sla.map(|s| view! { " " <span class="badge" id="app-sla">{move || sla_text(i18n, s, status)}</span> })}
            </dd>
        </dl>
        <div class="file-grid">
            <section class="panel" aria-labelledby="h-applicant">
                <h2 id="h-applicant">{t!(i18n, apps.applicant)}</h2>
                <dl class="facts" id="applicant-facts">
                    <dt>{move || field_text(i18n, "nik")}</dt><dd>{applicant.nik.clone()}</dd>
                    <dt>{move || field_text(i18n, "name")}</dt><dd>{applicant.name.clone()}</dd>
                    <dt>{move || field_text(i18n, "birth_date")}</dt><dd>{format!("{}, {}", applicant.birth_place, applicant.birth_date)}</dd>
                    <dt>{move || field_text(i18n, "address")}</dt><dd>{format!("{} ({})", applicant.address, applicant.region)}</dd>
                    <dt>{move || field_text(i18n, "kk_number")}</dt><dd>{applicant.kk_number.clone()}</dd>
                    {applicant.foreign.then(|| view! {
                        <dt>{move || field_text(i18n, "nationality")}</dt><dd>{applicant.country.clone()}</dd>
                        <dt>{move || field_text(i18n, "passport")}</dt><dd>{format!("{} · {}", applicant.passport_number, applicant.passport_expires)}</dd>
                        <dt>{move || field_text(i18n, "permit")}</dt><dd>{format!("{} {} · {}", applicant.permit_kind.to_uppercase(), applicant.permit_number, applicant.permit_expires)}</dd>
                    })}
                </dl>
                {app.card_expires.clone().map(|date| view! { <p class="notice" id="card-expiry">{t!(i18n, app.card_expires, date)}</p> })}
                {app.proxy.clone().map(|p| view! {
                    <p class="notice">{t!(i18n, app.proxy)}": "{format!("{} ({}) · {} – {}", p.name, p.nik, p.valid_from, p.valid_until)}</p>
                })}
                {(app.editable && app.can_edit).then(|| view! {
                    <button type="button" id="edit-applicant" aria-expanded=move || editing.get().to_string()
                        on:click=move |_| editing.update(|e| *e = !*e)>{t!(i18n, intake.edit)}</button>
                })}
                <Show when=move || editing.get()>
                    <EditApplicant id=edit_id.clone() current=edit_form.clone() version />
                </Show>
            </section>
            <section class="panel" aria-labelledby="h-checklist">
                <h2 id="h-checklist">{t!(i18n, app.checklist)}</h2>
                <ol class="checklist">
                    {app
                        .checklist
                        .iter()
                        .enumerate()
                        .map(|(i, line)| {
                            let id = id.clone();
                            let can_change = a.editable && a.can_edit;
                            let confirmable = !matches!(line.kind, RequirementKind::Document);
                            let upload_to = format!("/berkas/permohonan/{id}/syarat/{i}");
                            view! {
                                <li id=format!("syarat-{i}") class:met=line.met data-met=line.met.to_string()>
                                    <p>
                                        <span class="state">{if line.met { "✔ " } else { "○ " }}</span>
                                        {line.text.clone()}
                                    </p>
                                    {line.returned_because.clone().map(|reason| view! { <p class="error">{t!(i18n, app.returned_because, reason)}</p> })}
                                    <ul class="attachments">
                                        {line.attachments.iter().map(|f| view! {
                                            <li><a href=format!("/berkas/{}", f.sha256) target="_blank" rel="noopener">
                                                {t!(i18n, app.file)}" "{f.content_type.clone()}" · "{format!("{} KB", f.size.div_ceil(1024))}
                                            </a></li>
                                        }).collect_view()}
                                    </ul>
                                    {can_change.then(|| view! {
                                        <form class="upload" method="post" enctype="multipart/form-data" action=upload_to>
                                            <input type="hidden" name="csrf" value=csrf_value />
                                            <input type="file" name="berkas" accept="application/pdf,image/jpeg,image/png" required
                                                aria-label=move || t_string!(i18n, app.choose_file) />
                                            <button type="submit">{t!(i18n, app.upload)}</button>
                                        </form>
                                    })}
                                    {can_change.then(|| view! { <ScanButton id=id.clone() item=i version /> })}
                                    {(can_change && confirmable).then(|| view! {
                                        <ConfirmBox id=id.clone() item=i checked=line.confirmed version />
                                    })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
                <ScanHistory id=id.clone() version />
            </section>
            {app.needs_biometrics.then(|| view! { <Biometrics app=a.clone() version /> })}
            <Steps app=a.clone() version />
            <section class="panel" aria-labelledby="h-history">
                <h2 id="h-history">{t!(i18n, app.history)}</h2>
                <ol class="history">
                    {app.steps.iter().map(|s| {
                        let (action, to) = (s.action, s.to);
                        view! {
                            <li>
                                <strong>{move || action_text(i18n, action)}</strong>
                                " → "{move || status_text(i18n, to)}
                                <span class="muted">{format!(" · {} · {} · {}", s.at, s.by, s.office)}</span>
                                {s.note.clone().map(|n| view! { <p class="note">{n}</p> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
                {app.identification.clone().map(|(result, other)| view! {
                    <p>{t!(i18n, app.identification)}": "
                        {if result == "double" {
                            let other = other.unwrap_or_default();
                            t!(i18n, app.double, other).into_any()
                        } else {
                            t!(i18n, app.single).into_any()
                        }}
                    </p>
                })}
                {(!app.awaiting_decision.is_empty()).then(|| {
                    let fields = app.awaiting_decision.iter().map(|f| settled_field_text(i18n, f)).collect::<Vec<_>>().join(", ");
                    view! { <div class="notice warning" id="awaiting-decision" role="status">{t!(i18n, resolution.awaiting, fields)}</div> }
                })}
                {(!app.resolutions.is_empty()).then(|| view! {
                    <div class="notice" id="resolutions" role="status">
                        <h3>{t!(i18n, resolution.title)}</h3>
                        <ul>
                            {app.resolutions.iter().map(|r| {
                                let (field, reason, at) = (r.field.clone(), r.reason.clone(), r.at.clone());
                                let value = r.value.clone().unwrap_or_else(|| t_string!(i18n, resolution.empty).to_string());
                                view! { <li>{t!(i18n, resolution.line, field, value, reason, at)}</li> }
                            }).collect_view()}
                        </ul>
                    </div>
                })}
                <p class="button-row">
                    {app.has_return_slip.then(|| view! {
                        <a class="button" id="slip-pdf" href=format!("/dokumen/permohonan/{}/pengembalian.pdf", app.id) target="_blank">{t!(i18n, app.slip)}</a>
                    })}
                    {app.handover.is_some().then(|| view! {
                        <a class="button primary" id="receipt-pdf" href=format!("/dokumen/permohonan/{}/tanda-terima.pdf", app.id) target="_blank">{t!(i18n, app.receipt)}</a>
                    })}
                </p>
                {(app.has_return_slip || app.handover.is_some()).then(|| view! {
                    <PrintPanel id=app.id.clone() slip=app.has_return_slip receipt=app.handover.is_some() />
                })}
            </section>
            <section class="panel" aria-labelledby="h-procedure">
                <h2 id="h-procedure">{t!(i18n, app.procedure)}</h2>
                <ol>{app.procedure.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ol>
            </section>
        </div>
    }
}

/// Printing at the counter: the printouts sent to the counter's printer through the box's
/// queue, and the state of their jobs, followed while they are under way.
#[component]
fn PrintPanel(id: String, slip: bool, receipt: bool) -> impl IntoView {
    use crate::api::{JobState, Printout, print_jobs, print_printout, reprint};
    let i18n = use_i18n();
    let csrf = csrf_getter();
    let version = RwSignal::new(0u32);
    let key = id.clone();
    let jobs = Resource::new(move || version.get(), move |_| print_jobs(key.clone()));
    let error = RwSignal::new(None::<ApiError>);
    let busy = move || {
        jobs.get()
            .and_then(Result::ok)
            .is_some_and(|js| js.iter().any(|j| matches!(j.state, JobState::Queued | JobState::Sent)))
    };
    // Follow the jobs while any is under way.
    Effect::new(move |_| {
        if busy() {
            set_timeout(move || version.update(|v| *v += 1), std::time::Duration::from_secs(2));
        }
    });
    let csrf2 = csrf.clone();
    let print = leptos::prelude::Action::new(move |which: &Printout| {
        let (csrf, id, which) = (csrf(), id.clone(), *which);
        async move { print_printout(csrf, id, which).await }
    });
    let again = leptos::prelude::Action::new(move |job: &String| {
        let (csrf, job) = (csrf2(), job.clone());
        async move { reprint(csrf, job).await }
    });
    // Each action's answer refreshes the list (both are tracked, whichever answered last).
    Effect::new(move |_| {
        if let Some(r) = print.value().get() {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(r) = again.value().get() {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    });
    let on_reprint = Callback::new(move |job: String| {
        again.dispatch(job);
    });
    view! {
        <div class="print-panel" id="print-panel">
            <p class="button-row">
                {slip.then(|| view! {
                    <button id="print-slip" on:click=move |_| { print.dispatch(Printout::ReturnSlip); }>{t!(i18n, jobs.print_slip)}</button>
                })}
                {receipt.then(|| view! {
                    <button id="print-receipt" on:click=move |_| { print.dispatch(Printout::Receipt); }>{t!(i18n, jobs.print_receipt)}</button>
                })}
            </p>
            {move || error.get().map(|e| view! { <ErrorPanel error=e /> })}
            <Transition>
                {move || jobs.get().and_then(Result::ok).filter(|j| !j.is_empty()).map(|j| view! {
                    <super::devices::JobTable jobs=j on_reprint />
                })}
            </Transition>
        </div>
    }
}

/// The scans of the application's lines: what each scan became, and why one failed, also
/// after a reload or a restart of the box.
#[component]
fn ScanHistory(id: String, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    // Fetched in the browser only, after hydration: the page's server-rendered HTML never
    // depends on it.
    let scans = RwSignal::new(None::<Vec<crate::api::ScanJobView>>);
    Effect::new(move |_| {
        version.track();
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(list) = crate::api::scan_jobs(id).await {
                scans.set(Some(list));
            }
        });
    });
    view! {
        <div>
            {move || scans.get().filter(|s| !s.is_empty()).map(|list| {
                // Open when the newest scan failed, so the reason is in sight.
                let (last_failed, count) = (list.first().is_some_and(|s| s.state == "failed"), list.len());
                view! {
                <details class="scan-history" open=last_failed>
                    <summary>{t!(i18n, scan.history)}" ("{count}")"</summary>
                    <table id="scan-jobs">
                        <thead><tr>
                            <th>{t!(i18n, scan.time)}</th><th>{t!(i18n, scan.line)}</th><th>{t!(i18n, scan.scanner)}</th>
                            <th>{t!(i18n, scan.outcome)}</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|s| {
                                let outcome = match (s.state.as_str(), s.problem.clone(), s.pages) {
                                    ("done", _, Some(pages)) => t!(i18n, scan.done, pages).into_any(),
                                    ("failed", Some(code), _) => {
                                        let why = crate::components::lang::device_text(i18n, &code);
                                        view! { {t!(i18n, scan.failed)}": "{why} }.into_any()
                                    }
                                    _ => t!(i18n, scan.scanning).into_any(),
                                };
                                view! {
                                    <tr data-status=s.state.clone() data-item=s.item.to_string()>
                                        <td>{s.at}</td><td>{s.item + 1}</td><td>{s.scanner}</td><td>{outcome}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
                }
            })}
        </div>
    }
}

/// Scans the line's document on the counter's scanner.
#[component]
fn ScanButton(id: String, item: usize, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let csrf = csrf_getter();
    let scan = leptos::prelude::Action::new(move |_: &()| {
        let (csrf, id) = (csrf(), id.clone());
        async move { crate::api::scan_requirement(csrf, id, item).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = scan.value().get() {
            version.update(|v| *v += 1);
        }
    });
    view! {
        <p class="scan">
            <button type="button" class="secondary-dark" id=format!("scan-{item}")
                disabled=move || scan.pending().get() on:click=move |_| { scan.dispatch(()); }>
                {move || if scan.pending().get() { t_string!(i18n, scan.scanning) } else { t_string!(i18n, scan.button) }}
            </button>
            {move || scan.value().get().and_then(|r| r.err()).map(|e| view! {
                <span class="error" role="alert" id="scan-error">{message(i18n, e)}</span>
            })}
        </p>
    }
}

#[component]
fn ConfirmBox(id: String, item: usize, checked: bool, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let csrf = csrf_getter();
    let error = RwSignal::new(None::<ApiError>);
    let toggle = leptos::prelude::Action::new(move |on: &bool| {
        let (id, on, csrf) = (id.clone(), *on, csrf());
        async move { confirm_requirement(csrf, id, item, on).await }
    });
    Effect::new(move |_| {
        if let Some(r) = toggle.value().get() {
            error.set(r.err());
            version.update(|v| *v += 1);
        }
    });
    let box_id = format!("confirm-{item}");
    view! {
        <div class="field checkbox">
            <input id=box_id.clone() type="checkbox" prop:checked=checked
                on:change=move |ev| { toggle.dispatch(event_target_checked(&ev)); } />
            <label for=box_id>{t!(i18n, app.confirmed)}</label>
            {move || error.get().map(|e| view! { <span class="field-error">{message(i18n, e)}</span> })}
        </div>
    }
}

#[component]
fn EditApplicant(id: String, current: ApplicantForm, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let form = RwSignal::new(current);
    let problems: Problems = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<ApiError>);
    let csrf = csrf_getter();
    let save = leptos::prelude::Action::new(move |_: &()| {
        let (id, csrf, applicant) = (id.clone(), csrf(), form.get_untracked());
        async move { update_applicant(csrf, id, applicant).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => version.update(|v| *v += 1),
        Some(Err(e)) => {
            problems.set(problems_of(&e));
            error.set(Some(e));
        }
        None => {}
    });
    view! {
        <form class="edit-applicant" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <ApplicantFields form problems />
            {move || error.get().map(|e| view! { <p class="error" role="alert">{message(i18n, e)}</p> })}
            <button type="submit" class="primary">{t!(i18n, intake.save)}</button>
        </form>
    }
}

#[component]
fn Biometrics(app: ApplicationView, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let csrf_value = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let open = app.status == Status::Verified && app.can_edit;
    let app_id = app.id.clone();
    let capture = |modality: &str| app.captures.iter().find(|c| c.modality == modality).cloned();
    let upload = move |kind: &'static str, label: AnyView| {
        let action = format!("/berkas/permohonan/{}/biometrik/{kind}", app.id);
        view! {
            <form class="upload" method="post" enctype="multipart/form-data" action=action id=format!("upload-{kind}")>
                <input type="hidden" name="csrf" value=csrf_value />
                <label>{label}" "<input type="file" name="berkas" accept="image/jpeg,image/png" required /></label>
                <button type="submit">{t!(i18n, app.upload)}</button>
            </form>
        }
    };
    // A device that sent an ISO/IEC 19794 record: its format, and its image when one can be
    // shown (a WSQ or JPEG 2000 image is kept as sent, for the centre).
    let record_bits = move |c: &crate::api::CaptureView| {
        let format = c.record_format.clone().map(|f| view! { " · " <span class="record-format">{f}</span> });
        let picture = c.picture.clone().map(|p| {
            view! { " · " <a class="record-picture" href=format!("/berkas/{p}") target="_blank">{t!(i18n, app.record_picture)}</a> }
        });
        view! { {format}{picture} }
    };
    let shown = move |modality: &'static str, label: AnyView| {
        let c = capture(modality);
        let captured = c.as_ref().is_some_and(|c| c.blob.is_some()).to_string();
        view! {
            <li data-modality=modality data-captured=captured>
                <strong>{label}</strong>": "
                {match c {
                    Some(c) if c.blob.is_some() => {
                        let sha = c.blob.clone().unwrap_or_default();
                        view! {
                            <a href=format!("/berkas/{sha}") target="_blank">"✔ "{c.device.clone()}</a>
                            {record_bits(&c)}
                            {c.quality.map(|q| view! { " · "{t!(i18n, app.quality)}" "{q}})}
                            {c.quality.filter(|q| simpul_sbi::low_quality(*q)).map(|_| view! {
                                " " <span class="warning low-quality">{t!(i18n, app.low_quality)}</span>
                            })}
                        }.into_any()
                    }
                    Some(c) => view! { <span class="muted">{t!(i18n, app.exception)}": "{exception_text(i18n, c.exception.as_deref().unwrap_or_default())}</span> }.into_any(),
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}
            </li>
        }
    };
    // Fingerprints are ten records: how many were captured, and each finger's exception.
    let prints = {
        use simpul_sbi::BioSubType;
        let fingers: Vec<_> = app.captures.iter().filter(|c| c.modality == "fingerprint").cloned().collect();
        let captured = fingers.iter().filter(|c| c.blob.is_some()).count();
        let excepted: Vec<(String, String)> = fingers
            .iter()
            .filter(|c| c.blob.is_none())
            .map(|c| (c.position.clone(), c.exception.clone().unwrap_or_default()))
            .collect();
        let excepted_count = excepted.len().to_string();
        view! {
            <li data-modality="fingerprint" data-captured=(captured > 0).to_string()
                data-prints=captured.to_string() data-exceptions=excepted_count>
                <strong>{t!(i18n, app.fingerprint)}</strong>": "
                {if fingers.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    let best = fingers.iter().filter_map(|c| c.quality).min();
                    let format = fingers.iter().find_map(|c| c.record_format.clone());
                    view! {
                        {(captured > 0).then(|| view! {
                            <span>"✔ "{captured}" / 10"</span>
                            {format.map(|f| view! { " · " <span class="record-format">{f}</span> })}
                            {best.map(|q| view! { " · "{t!(i18n, app.quality)}" ≥ "{q}})}
                            {best.filter(|q| simpul_sbi::low_quality(*q)).map(|_| view! {
                                " " <span class="warning low-quality">{t!(i18n, app.low_quality)}</span>
                            })}
                        })}
                        <ul class="finger-list">
                            {excepted.into_iter().map(|(position, why)| {
                                let finger = BioSubType::from_position(&position)
                                    .map_or_else(|| "—".to_string(), |f| finger_text(i18n, f));
                                view! {
                                    <li class="muted" data-finger=position.clone()>
                                        {finger}": "{t!(i18n, app.exception)}" — "{exception_text(i18n, &why)}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </li>
        }
    };
    // The iris is two records, one per eye: each eye's capture or exception.
    let eyes = {
        use simpul_sbi::BioSubType;
        let records: Vec<_> = app.captures.iter().filter(|c| c.modality == "iris").cloned().collect();
        let captured = records.iter().filter(|c| c.blob.is_some()).count();
        let excepted = records.iter().filter(|c| c.blob.is_none()).count();
        view! {
            <li data-modality="iris" data-captured=(captured > 0).to_string()
                data-eyes=captured.to_string() data-exceptions=excepted.to_string()>
                <strong>{t!(i18n, app.iris)}</strong>": "
                {if records.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    view! {
                        <ul class="finger-list">
                            {records.into_iter().map(|c| {
                                let eye = BioSubType::from_position(&c.position)
                                    .map_or_else(|| t_string!(i18n, app.iris).to_string(), |e| finger_text(i18n, e));
                                let state = match c.blob.clone() {
                                    Some(sha) => view! {
                                        <a href=format!("/berkas/{sha}") target="_blank">"✔ "{c.device.clone()}</a>
                                        {record_bits(&c)}
                                        {c.quality.map(|q| view! { " · "{t!(i18n, app.quality)}" "{q}})}
                                        {c.quality.filter(|q| simpul_sbi::low_quality(*q)).map(|_| view! {
                                            " " <span class="warning low-quality">{t!(i18n, app.low_quality)}</span>
                                        })}
                                    }.into_any(),
                                    None => view! {
                                        <span class="muted">{t!(i18n, app.exception)}" — "
                                            {exception_text(i18n, c.exception.as_deref().unwrap_or_default())}</span>
                                    }.into_any(),
                                };
                                view! { <li data-eye=c.position.clone()>{eye}": "{state}</li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </li>
        }
    };
    view! {
        <section class="panel" id="biometrik" aria-labelledby="h-bio">
            <h2 id="h-bio">{t!(i18n, app.biometrics)}</h2>
            <ul class="captures">
                {shown("photo", t!(i18n, app.photo).into_any())}
                {shown("signature", t!(i18n, app.signature).into_any())}
                {prints}
                {eyes}
            </ul>
            {open.then(|| view! { <DeviceCapture id=app_id.clone() version /> })}
            <p class="notice">{t!(i18n, app.waiting_device)}</p>
            {open.then(|| view! {
                {upload("foto", t!(i18n, app.photo).into_any())}
                {upload("tanda-tangan", t!(i18n, app.signature).into_any())}
            })}
        </section>
    }
}

/// Captures `modality` on the biometric device service of this counter PC at `base`, leaving
/// out the `skipped` fingers or eyes, and hands the signed captures to the box under a
/// transaction the box names. Answers how many the box recorded.
async fn capture_here(
    base: &str,
    modality: simpul_sbi::Modality,
    skipped: &[simpul_sbi::BioSubType],
    csrf: String,
    id: String,
) -> Result<u32, ApiError> {
    #[cfg(feature = "hydrate")]
    {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(SBI_ADDRESS_KEY, base);
        }
        let transaction = crate::api::begin_capture(csrf.clone(), id.clone()).await?;
        let got = crate::biometric_client::capture(base, modality, skipped, &transaction)
            .await
            .map_err(|code| ApiError::Refused(Refusal::Device(code)))?;
        let mut recorded = 0;
        // A few blocks per request keeps each under the server's body limit.
        for blocks in got.blocks.chunks(3) {
            recorded += crate::api::hand_captures(
                csrf.clone(),
                id.clone(),
                modality.as_str().to_string(),
                got.transaction.clone(),
                blocks.to_vec(),
            )
            .await?;
        }
        Ok(recorded)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (base, modality, skipped, csrf, id);
        Err(ApiError::Unavailable("capture runs in the browser".into()))
    }
}

/// Where this counter PC keeps the address of its biometric device service.
#[cfg(feature = "hydrate")]
const SBI_ADDRESS_KEY: &str = "simpul.sbi";

/// What staff chose on the capture panel of one application: the fingers and eyes that cannot
/// be captured, why, and whether that part of the panel is open.
#[derive(Clone, Copy)]
struct CaptureChoices {
    for_id: RwSignal<String>,
    missing: RwSignal<Vec<simpul_sbi::BioSubType>>,
    reason: RwSignal<simpul_sbi::ExceptionReason>,
    shown: RwSignal<bool>,
}

impl Default for CaptureChoices {
    fn default() -> Self {
        CaptureChoices {
            for_id: RwSignal::new(String::new()),
            missing: RwSignal::new(Vec::new()),
            reason: RwSignal::new(simpul_sbi::ExceptionReason::Missing),
            shown: RwSignal::new(false),
        }
    }
}

impl CaptureChoices {
    /// The page's choices, started afresh when they were made for another application.
    fn for_application(id: &str) -> CaptureChoices {
        let choices = use_context::<CaptureChoices>().unwrap_or_default();
        if choices.for_id.get_untracked() != id {
            choices.for_id.set(id.to_string());
            choices.missing.set(Vec::new());
            choices.reason.set(simpul_sbi::ExceptionReason::Missing);
            choices.shown.set(false);
        }
        choices
    }
}

/// How long a live preview runs before the device ends it.
#[cfg(feature = "hydrate")]
const PREVIEW_SECONDS: u32 = 20;

/// Capture on the biometric device service of this counter PC: the browser speaks SBI to it
/// and hands the signed captures to the box. Fingers that cannot be captured are left out of
/// the capture and recorded as exceptions with their reason.
#[component]
fn DeviceCapture(id: String, version: RwSignal<u32>) -> impl IntoView {
    use simpul_sbi::{BioSubType, ExceptionReason, Modality};
    let i18n = use_i18n();
    let csrf = csrf_getter();
    #[cfg(feature = "hydrate")]
    const WHERE_KEY: &str = "simpul.sbi.where";
    let address = RwSignal::new("http://127.0.0.1:4501".to_string());
    // Where the device is plugged in: this counter PC (the browser talks to it) or the box
    // (the server does).
    let on_box = RwSignal::new(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            if let Some(saved) = storage.get_item(SBI_ADDRESS_KEY).ok().flatten() {
                address.set(saved);
            }
            if storage.get_item(WHERE_KEY).ok().flatten().as_deref() == Some("box") {
                on_box.set(true);
            }
        }
    });
    let set_where = move |to_box: bool| {
        on_box.set(to_box);
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(WHERE_KEY, if to_box { "box" } else { "pc" });
        }
    };
    let CaptureChoices { missing, reason, shown: show_missing, .. } = CaptureChoices::for_application(&id);
    let error = RwSignal::new(None::<ApiError>);
    // Plain (Send) actions: `Action::new_local` would create thread-bound storage while the
    // server renders this page, and the renderer may drop it on another worker thread, which
    // panics. Only the browser's future is thread-bound, and it never leaves the browser's one
    // thread, so it alone is wrapped.
    // The live preview: each start (and each capture) begins a new run, and a running preview
    // whose run is no longer the current one stops at its next frame.
    let preview_run = RwSignal::new(0u32);
    let preview_src = RwSignal::new(None::<String>);
    let preview_frames = RwSignal::new(0u32);
    let preview = leptos::prelude::Action::new(move |modality: &Modality| {
        let (modality, base, to_box) = (*modality, address.get_untracked(), on_box.get_untracked());
        preview_run.update(|r| *r += 1);
        let run = preview_run.get_untracked();
        preview_frames.set(0);
        let work = async move {
            #[cfg(feature = "hydrate")]
            {
                let show = move |url: &str| {
                    if preview_run.try_get_untracked() != Some(run) {
                        return false;
                    }
                    preview_src.set(Some(url.to_string()));
                    preview_frames.update(|n| *n += 1);
                    true
                };
                // From the device on this PC, or relayed by the box from the device on it.
                let outcome = if to_box {
                    crate::biometric_client::preview_on_box(modality, PREVIEW_SECONDS, show).await
                } else {
                    crate::biometric_client::preview(&base, modality, PREVIEW_SECONDS, show)
                        .await
                        .map_err(|code| ApiError::Refused(Refusal::Device(code)))
                };
                // A preview stopped or replaced meanwhile has nothing to report.
                if preview_run.try_get_untracked() != Some(run) {
                    return Ok(0);
                }
                outcome
            }
            #[cfg(not(feature = "hydrate"))]
            {
                let _ = (modality, base, run, to_box);
                Err::<u32, ApiError>(ApiError::Unavailable("the preview runs in the browser".into()))
            }
        };
        #[cfg(feature = "hydrate")]
        let work = send_wrapper::SendWrapper::new(work);
        work
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = preview.value().get() {
            error.set(Some(e));
        }
    });
    let stop_preview = move || {
        preview_run.update(|r| *r += 1);
        preview_src.set(None);
    };
    let capture = leptos::prelude::Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |modality: &Modality| {
            // The preview is stopped: it lets go of the device at its next frame (a device that
            // will not capture while streaming answers busy until then, and staff press again).
            stop_preview();
            let (modality, base, csrf, id) = (*modality, address.get_untracked(), csrf(), id.clone());
            let (missing, reason) = (missing.get_untracked(), reason.get_untracked());
            let to_box = on_box.get_untracked();
            let work = async move {
                // The fingers (for fingerprints) or eyes (for the iris) left out of the capture
                // and recorded as exceptions; when all are, there is nothing to capture.
                let skipped: Vec<BioSubType> = missing.into_iter().filter(|p| p.modality() == Some(modality)).collect();
                let nothing_left = simpul_sbi::nothing_to_capture(modality, &skipped);
                let names: Vec<String> = skipped.iter().map(|p| p.position()).collect();
                let mut recorded = 0;
                if !nothing_left {
                    recorded += if to_box {
                        crate::api::capture_on_box(
                            csrf.clone(),
                            id.clone(),
                            modality.as_str().to_string(),
                            names.clone(),
                        )
                        .await?
                    } else {
                        capture_here(&base, modality, &skipped, csrf.clone(), id.clone()).await?
                    };
                }
                if !names.is_empty() {
                    recorded +=
                        crate::api::record_capture_exceptions(csrf, id, modality.as_str().to_string(), names, reason)
                            .await?;
                }
                Ok(recorded)
            };
            #[cfg(feature = "hydrate")]
            let work = send_wrapper::SendWrapper::new(work);
            work
        }
    });
    Effect::new(move |_| {
        if let Some(r) = capture.value().get() {
            match r {
                Ok(_) => {
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    // Biometric services on this PC, looked for from the browser (the box cannot see them).
    let search = leptos::prelude::Action::new(move |_: &()| {
        let work = async move {
            #[cfg(feature = "hydrate")]
            {
                crate::biometric_client::find_services().await.into_iter().map(|f| (f.base, f.devices)).collect()
            }
            #[cfg(not(feature = "hydrate"))]
            {
                Vec::<(String, usize)>::new()
            }
        };
        #[cfg(feature = "hydrate")]
        let work = send_wrapper::SendWrapper::new(work);
        work
    });
    Effect::new(move |_| {
        if let Some(first) = search.value().get().and_then(|found: Vec<(String, usize)>| found.first().cloned()) {
            address.set(first.0);
        }
    });
    let busy = move || capture.pending().get() || search.pending().get();
    let button = move |modality: Modality, label: AnyView| {
        view! {
            <button type="button" class="secondary-dark" id=format!("capture-{}", modality.as_str().to_lowercase())
                disabled=busy on:click=move |_| { capture.dispatch(modality); }>
                {label}
            </button>
            " "
        }
    };
    let preview_button = move |modality: Modality, label: AnyView| {
        view! {
            <button type="button" class="secondary-dark" id=format!("preview-{}", modality.as_str().to_lowercase())
                disabled=busy on:click=move |_| { preview.dispatch(modality); }>
                {t!(i18n, capture.preview)}" "{label}
            </button>
            " "
        }
    };
    // A finger's box is `missing-left_thumb`, an eye's `missing-eye-left`.
    let part_box = move |finger: BioSubType| {
        let position = finger.position();
        let input_id = if finger.modality() == Some(Modality::Iris) {
            format!("missing-eye-{position}")
        } else {
            format!("missing-{position}")
        };
        let label_for = input_id.clone();
        view! {
            <label class="check" for=label_for>
                <input type="checkbox" id=input_id prop:checked=move || missing.get().contains(&finger)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        missing.update(|m| {
                            m.retain(|f| *f != finger);
                            if on { m.push(finger); }
                        });
                    } />
                " "{move || finger_text(i18n, finger)}
            </label>
        }
    };
    view! {
        <div class="device-capture" id="device-capture">
            <fieldset class="capture-where">
                <legend>{t!(i18n, capture.where_label)}</legend>
                <label class="check" for="capture-where-pc">
                    <input type="radio" name="capture-where" id="capture-where-pc"
                        prop:checked=move || !on_box.get() on:change=move |_| { stop_preview(); set_where(false) } />
                    " "{t!(i18n, capture.where_pc)}
                </label>
                <label class="check" for="capture-where-box">
                    <input type="radio" name="capture-where" id="capture-where-box"
                        prop:checked=move || on_box.get() on:change=move |_| { stop_preview(); set_where(true) } />
                    " "{t!(i18n, capture.where_box)}
                </label>
            </fieldset>
            {move || on_box.get().then(|| view! { <p class="muted" id="capture-box-note">{t!(i18n, capture.box_note)}</p> })}
            <p hidden=move || on_box.get()>
                <label for="sbi-address">{t!(i18n, capture.address)}</label>" "
                <input id="sbi-address" prop:value=address on:input=move |ev| address.set(event_target_value(&ev)) />" "
                <button type="button" class="secondary-dark" id="sbi-search" disabled=busy
                    on:click=move |_| { search.dispatch(()); }>
                    {t!(i18n, capture.search)}
                </button>
            </p>
            {move || search.value().get().filter(|_| !on_box.get()).map(|found| if found.is_empty() {
                view! { <p class="warning" role="status" id="sbi-found">{t!(i18n, capture.none_found)}</p> }.into_any()
            } else {
                let list = found.iter().map(|(base, n)| format!("{base} ({n})")).collect::<Vec<_>>().join(", ");
                view! { <p class="muted" role="status" id="sbi-found">{t!(i18n, capture.found)}" "{list}</p> }.into_any()
            })}
            <p>
                <button type="button" class="secondary-dark" id="finger-exceptions-toggle"
                    aria-expanded=move || show_missing.get().to_string() aria-controls="finger-exceptions"
                    on:click=move |_| show_missing.update(|s| *s = !*s)>
                    {t!(i18n, capture.missing_fingers)}
                    {move || (!missing.get().is_empty()).then(|| format!(" ({})", missing.get().len()))}
                </button>
            </p>
            <div class="finger-exceptions" id="finger-exceptions" hidden=move || !show_missing.get()>
                <fieldset>
                    <legend>{t!(i18n, capture.missing_which)}</legend>
                    {BioSubType::FINGERS.into_iter().map(part_box).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>{t!(i18n, capture.missing_eyes)}</legend>
                    {BioSubType::IRISES.into_iter().map(part_box).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>{t!(i18n, capture.missing_reason)}</legend>
                    {ExceptionReason::ALL.into_iter().map(|r| {
                        let input_id = format!("reason-{}", r.code());
                        let label_for = input_id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input type="radio" name="finger-reason" id=input_id
                                    prop:checked=move || reason.get() == r on:change=move |_| reason.set(r) />
                                " "{move || exception_text(i18n, r.code())}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            </div>
            <p class="button-row">
                {preview_button(Modality::Face, t!(i18n, app.photo).into_any())}
                {preview_button(Modality::Iris, t!(i18n, app.iris).into_any())}
                {move || preview_src.get().is_some().then(|| view! {
                    <button type="button" class="secondary-dark" id="preview-stop" on:click=move |_| stop_preview()>
                        {t!(i18n, capture.preview_stop)}
                    </button>
                })}
            </p>
            {move || preview_src.get().map(|src| view! {
                <figure class="capture-preview">
                    <img id="capture-preview" src=src alt=move || t_string!(i18n, capture.preview_alt)
                        data-frames=move || preview_frames.get().to_string() />
                    <figcaption class="muted" role="status">{t!(i18n, capture.previewing)}</figcaption>
                </figure>
            })}
            <p class="button-row">
                {button(Modality::Face, t!(i18n, app.photo).into_any())}
                {button(Modality::Finger, t!(i18n, app.fingerprint).into_any())}
                {button(Modality::Iris, t!(i18n, app.iris).into_any())}
                {button(Modality::Signature, t!(i18n, app.signature).into_any())}
            </p>
            {move || busy().then(|| view! { <p class="muted" role="status">{t!(i18n, capture.capturing)}</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="capture-error">{message(i18n, e)}</p> })}
        </div>
    }
}

#[component]
fn Steps(app: ApplicationView, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let csrf = csrf_getter();
    let form =
        RwSignal::new(StepForm { recipient_nik: app.applicant.nik.clone(), copies: None, ..StepForm::default() });
    let picked = RwSignal::new(Vec::<usize>::new());
    let reasons = RwSignal::new(vec![String::new(); app.checklist.len()]);
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<Status>);
    let id = app.id.clone();
    let step = leptos::prelude::Action::new(move |action: &Action| {
        let mut request = form.get_untracked();
        if *action == Action::Return {
            let texts = reasons.get_untracked();
            request.reasons =
                picked.get_untracked().into_iter().map(|i| (i, texts.get(i).cloned().unwrap_or_default())).collect();
        }
        let (id, csrf, action) = (id.clone(), csrf(), *action);
        let client_id = crate::client::fresh_id();
        async move { application_step(csrf, client_id, id, action, request).await }
    });
    Effect::new(move |_| match step.value().get() {
        Some(Ok(status)) => {
            error.set(None);
            done.set(Some(status));
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let actions = app.actions.clone();
    if actions.is_empty() {
        return view! {
            <section class="panel" aria-labelledby="h-steps">
                <h2 id="h-steps">{t!(i18n, app.steps)}</h2>
                <p class="muted">{t!(i18n, app.no_steps)}</p>
            </section>
        }
        .into_any();
    }
    let has = |a: Action| actions.contains(&a);
    let text_field = move |id: &'static str,
                           label: AnyView,
                           get: fn(&StepForm) -> String,
                           set: fn(&mut StepForm, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" prop:value=move || form.with(get) on:input=move |ev| form.update(|f| set(f, event_target_value(&ev))) />
            </div>
        }
    };
    let checklist = app.checklist.clone();
    view! {
        <section class="panel steps" aria-labelledby="h-steps">
            <h2 id="h-steps">{t!(i18n, app.steps)}</h2>
            {has(Action::Return).then(|| view! {
                <fieldset class="return-reasons">
                    <legend>{t!(i18n, app.return_pick)}</legend>
                    {checklist.iter().enumerate().map(|(i, line)| view! {
                        <div class="field checkbox">
                            <input id=format!("ret-{i}") type="checkbox"
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    picked.update(|p| { p.retain(|x| *x != i); if on { p.push(i); } });
                                } />
                            <label for=format!("ret-{i}")>{format!("{}. {}", i + 1, line.text)}</label>
                        </div>
                        <Show when=move || picked.get().contains(&i)>
                            <input type="text" class="reason" id=format!("reason-{i}") aria-label=move || t_string!(i18n, app.reason)
                                on:input=move |ev| reasons.update(|r| if let Some(x) = r.get_mut(i) { *x = event_target_value(&ev) }) />
                        </Show>
                    }).collect_view()}
                </fieldset>
            })}
            {has(Action::IdentifiedDouble).then(|| text_field("other_reference", t!(i18n, app.other_ref).into_any(), |f| f.other_reference.clone(), |f, v| f.other_reference = v))}
            {has(Action::HandOver).then(|| view! {
                {text_field("recipient_nik", t!(i18n, app.recipient_nik).into_any(), |f| f.recipient_nik.clone(), |f, v| f.recipient_nik = v)}
                <details class="pickup-proxy" id="pickup-proxy">
                    <summary>{t!(i18n, app.pickup_proxy)}</summary>
                    <p class="muted">{t!(i18n, app.pickup_proxy_hint)}</p>
                    {text_field("pickup_name", t!(i18n, app.proxy_name).into_any(), |f| f.proxy_name.clone(), |f, v| f.proxy_name = v)}
                    <div class="field">
                        <label for="pickup_valid_until">{t!(i18n, app.proxy_valid_until)}</label>
                        <input id="pickup_valid_until" type="date" prop:value=move || form.with(|f| f.proxy_valid_until.clone())
                            on:input=move |ev| form.update(|f| f.proxy_valid_until = event_target_value(&ev)) />
                    </div>
                    {text_field("pickup_reason", t!(i18n, app.proxy_reason).into_any(), |f| f.proxy_reason.clone(), |f, v| f.proxy_reason = v)}
                </details>
                {text_field("withdrawn_serial", t!(i18n, app.withdrawn_serial).into_any(), |f| f.withdrawn_serial.clone(), |f, v| f.withdrawn_serial = v)}
                {text_field("withdrawn_reason", t!(i18n, app.withdrawn_reason).into_any(), |f| f.withdrawn_reason.clone(), |f, v| f.withdrawn_reason = v)}
                {text_field("withdrawn_disposition", t!(i18n, app.withdrawn_disposition).into_any(), |f| f.withdrawn_disposition.clone(), |f, v| f.withdrawn_disposition = v)}
                <div class="field">
                    <label for="copies">{t!(i18n, app.copies)}</label>
                    <input id="copies" type="number" min="0" max="100"
                        on:input=move |ev| form.update(|f| f.copies = event_target_value(&ev).trim().parse().ok()) />
                </div>
            })}
            {text_field("step_note", t!(i18n, app.note).into_any(), |f| f.note.clone(), |f, v| f.note = v)}
            <div class="button-row">
                {actions.iter().map(|a| {
                    let a = *a;
                    let class = match a {
                        Action::Cancel => "warn",
                        Action::Return => "secondary-dark",
                        _ => "primary",
                    };
                    let id = format!("step-{}", serde_json::to_value(a).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
                    view! {
                        <button type="button" class=class id=id disabled=move || step.pending().get()
                            on:click=move |_| { step.dispatch(a); }>
                            {move || action_text(i18n, a)}
                        </button>
                    }
                }).collect_view()}
            </div>
            {move || done.get().map(|s| {
                let status = status_text(i18n, s);
                view! { <p class="ok" role="status">{t!(i18n, app.done, status)}</p> }
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="step-error">{message(i18n, e)}</p> })}
        </section>
    }
    .into_any()
}
