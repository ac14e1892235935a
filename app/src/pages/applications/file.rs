//! The file of one application: its data, checklist with uploads, scans and confirmations,
//! printouts, and the panels of its current step.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use simpul_domain::attachment::RequirementKind;
use simpul_domain::auth::Permission;

use super::biometrics::Biometrics;
use super::capture::CaptureChoices;
use super::form::{ApplicantFields, Problems, problems_of};
use super::steps::{StepRunner, Steps};
use crate::api::{ApplicantForm, ApplicationView, confirm_requirement, get_application, update_applicant};
use crate::components::errors::{ErrorPanel, message};
use crate::components::lang::{
    action_text, field_text, settled_field_text, sla_class, sla_text, status_text, upload_text,
};
use crate::components::layout::{csrf_getter, use_auth};
use crate::error::ApiError;
use crate::pages::Guard;

use crate::i18n::*;

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
pub(super) fn File() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let version = RwSignal::new(0u32);
    let app = Resource::new(move || (id(), version.get()), |(id, _)| get_application(id));
    // The page is drawn again after every capture: the fingers and eyes staff ticked live here,
    // above it, so ticks not recorded yet are not lost.
    provide_context(CaptureChoices::default());
    StepRunner::provide(version);
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
pub(super) fn FileView(app: ApplicationView, version: RwSignal<u32>) -> impl IntoView {
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
            <Steps app=a.clone() />
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
pub(super) fn PrintPanel(id: String, slip: bool, receipt: bool) -> impl IntoView {
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
                    <crate::pages::devices::JobTable jobs=j on_reprint />
                })}
            </Transition>
        </div>
    }
}

/// The scans of the application's lines: what each scan became, and why one failed, also
/// after a reload or a restart of the box.
#[component]
pub(super) fn ScanHistory(id: String, version: RwSignal<u32>) -> impl IntoView {
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
pub(super) fn ScanButton(id: String, item: usize, version: RwSignal<u32>) -> impl IntoView {
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
pub(super) fn ConfirmBox(id: String, item: usize, checked: bool, version: RwSignal<u32>) -> impl IntoView {
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
pub(super) fn EditApplicant(id: String, current: ApplicantForm, version: RwSignal<u32>) -> impl IntoView {
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
