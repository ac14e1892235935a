//! "Perangkat" (kepala, installer): the office's devices with their state and supplies, check
//! and test buttons, which counter uses which device, devices found on the network, adding by
//! address, and the newest print jobs with re-print. Also the print-job list the application
//! page shows at the counter.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use simpul_domain::auth::Permission;

use super::Guard;
use crate::api::{
    DeviceClass, DeviceForm, DeviceView, DiscoveryView, FoundDevice, JobState, PrintJobView, TestOutcome,
    accept_device_identity, add_device, assign_device, check_device, discover_devices, get_devices, remove_device,
    rename_device, reprint, test_device,
};
use crate::components::errors::ErrorPanel;
use crate::components::lang::{device_text, warning_text};
use crate::components::layout::use_auth;
use crate::error::ApiError;
use crate::i18n::*;

/// "Perangkat".
#[component]
pub fn DevicesPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ManageDevices>
            <Devices />
        </Guard>
    }
}

/// The name of a device class.
pub fn class_text(i18n: I18nContext<Locale>, class: DeviceClass) -> String {
    match class {
        DeviceClass::DocumentPrinter => t_string!(i18n, devices.document_printer).to_string(),
        DeviceClass::TicketPrinter => t_string!(i18n, devices.ticket_printer).to_string(),
        DeviceClass::Scanner => t_string!(i18n, devices.scanner).to_string(),
        DeviceClass::Biometric => t_string!(i18n, devices.biometric).to_string(),
    }
}

fn job_state_text(i18n: I18nContext<Locale>, job: &PrintJobView) -> AnyView {
    let problem = job.problem.as_deref().map(|p| device_text(i18n, p));
    match (job.state, problem) {
        (JobState::Queued, None) => t!(i18n, jobs.queued).into_any(),
        (JobState::Queued, Some(problem)) => t!(i18n, jobs.waiting, problem).into_any(),
        (JobState::Sent, None) => t!(i18n, jobs.sent).into_any(),
        (JobState::Sent, Some(problem)) => t!(i18n, jobs.held_up, problem).into_any(),
        (JobState::Done, _) => t!(i18n, jobs.done).into_any(),
        (JobState::Failed, p) => {
            let problem = p.unwrap_or_else(|| "—".into());
            t!(i18n, jobs.failed, problem).into_any()
        }
    }
}

/// What the last action on the page did.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Note {
    Queued,
    Worked(String),
    Failed(String),
    Added,
    Removed(u32),
}

/// A table of print jobs with their state and a re-print button for finished ones.
#[component]
pub fn JobTable(jobs: Vec<PrintJobView>, on_reprint: Callback<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="grid jobs">
            <thead>
                <tr>
                    <th>{t!(i18n, jobs.title)}</th>
                    <th>{t!(i18n, jobs.printer)}</th>
                    <th>{t!(i18n, jobs.state)}</th>
                    <th>{t!(i18n, jobs.at)}</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {jobs.into_iter().map(|j| {
                    let id = j.id.clone();
                    let finished = matches!(j.state, JobState::Done | JobState::Failed);
                    let state_class = match j.state {
                        JobState::Done => "ok",
                        JobState::Failed => "bad",
                        JobState::Queued | JobState::Sent if j.problem.is_some() => "warn",
                        _ => "",
                    };
                    let state_code = match j.state {
                        JobState::Queued => "queued",
                        JobState::Sent => "sent",
                        JobState::Done => "done",
                        JobState::Failed => "failed",
                    };
                    let text = job_state_text(i18n, &j);
                    view! {
                        <tr data-job=j.id.clone() data-state=state_code>
                            <td>{j.title.clone()}</td>
                            <td>{j.printer.clone()}</td>
                            <td class=state_class>{text}</td>
                            <td>{j.at.clone()}</td>
                            <td>
                                {finished.then(|| view! {
                                    <button class="secondary-dark" on:click=move |_| on_reprint.run(id.clone())>
                                        {t!(i18n, jobs.reprint)}
                                    </button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Devices() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let version = RwSignal::new(0u32);
    let page = Resource::new(move || version.get(), |_| get_devices());
    let error = RwSignal::new(None::<ApiError>);
    let note = RwSignal::new(None::<Note>);
    let csrf = move || auth.session.get().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default();
    let bump = move || version.update(|v| *v += 1);

    let check = Action::new(move |id: &String| {
        let (csrf, id) = (csrf(), id.clone());
        async move { check_device(csrf, id).await }
    });
    Effect::new(move |_| {
        if let Some(r) = check.value().get() {
            error.set(r.err());
            bump();
        }
    });
    let test = Action::new(move |id: &String| {
        let (csrf, id) = (csrf(), id.clone());
        async move { test_device(csrf, id).await }
    });
    Effect::new(move |_| {
        if let Some(r) = test.value().get() {
            match r {
                Ok(TestOutcome::Queued(_)) => note.set(Some(Note::Queued)),
                Ok(TestOutcome::Worked(what)) => note.set(Some(Note::Worked(what))),
                Ok(TestOutcome::Failed(code)) => note.set(Some(Note::Failed(code))),
                Err(e) => error.set(Some(e)),
            }
            bump();
        }
    });
    let assign = Action::new(move |(id, counter): &(String, String)| {
        let (csrf, id, counter) = (csrf(), id.clone(), counter.clone());
        async move { assign_device(csrf, id, counter).await }
    });
    Effect::new(move |_| {
        if let Some(r) = assign.value().get() {
            error.set(r.err());
            bump();
        }
    });
    let accept = Action::new(move |id: &String| {
        let (csrf, id) = (csrf(), id.clone());
        async move { accept_device_identity(csrf, id).await }
    });
    Effect::new(move |_| {
        if let Some(r) = accept.value().get() {
            error.set(r.err());
            bump();
        }
    });
    let rename = Action::new(move |(id, name): &(String, String)| {
        let (csrf, id, name) = (csrf(), id.clone(), name.clone());
        async move { rename_device(csrf, id, name).await }
    });
    Effect::new(move |_| {
        if let Some(r) = rename.value().get() {
            error.set(r.err());
            bump();
        }
    });
    let remove = Action::new(move |id: &String| {
        let (csrf, id) = (csrf(), id.clone());
        async move { remove_device(csrf, id).await }
    });
    Effect::new(move |_| {
        if let Some(r) = remove.value().get() {
            match r {
                Ok(stopped) => {
                    error.set(None);
                    note.set(Some(Note::Removed(stopped)));
                }
                Err(e) => error.set(Some(e)),
            }
            bump();
        }
    });
    let again = Action::new(move |job: &String| {
        let (csrf, job) = (csrf(), job.clone());
        async move { reprint(csrf, job).await }
    });
    Effect::new(move |_| {
        if let Some(r) = again.value().get() {
            error.set(r.err());
            bump();
        }
    });
    let on_reprint = Callback::new(move |job: String| {
        again.dispatch(job);
    });

    // The add form, also filled from a found device.
    let form_class = RwSignal::new(DeviceClass::DocumentPrinter);
    let form_name = RwSignal::new(String::new());
    let form_address = RwSignal::new(String::new());
    let form_counter = RwSignal::new(String::new());
    let add = Action::new(move |_: &()| {
        let form = DeviceForm {
            class: form_class.get_untracked(),
            name: form_name.get_untracked(),
            address: form_address.get_untracked(),
            counter: form_counter.get_untracked(),
        };
        let csrf = csrf();
        async move { add_device(csrf, form).await }
    });
    Effect::new(move |_| {
        if let Some(r) = add.value().get() {
            match r {
                Ok(_) => {
                    error.set(None);
                    form_name.set(String::new());
                    form_address.set(String::new());
                    note.set(Some(Note::Added));
                }
                Err(e) => error.set(Some(e)),
            }
            bump();
        }
    });
    let discover = Action::new(move |_: &()| {
        let csrf = csrf();
        async move { discover_devices(csrf).await }
    });
    let pick = move |f: FoundDevice| {
        form_class.set(f.class);
        form_name.set(f.name);
        form_address.set(f.address);
    };

    view! {
        <section class="panel">
            <h1>{t!(i18n, devices.title)}</h1>
            <p class="muted">{t!(i18n, devices.intro)}</p>
            {move || note.get().map(|n| {
                let text = match n {
                    Note::Queued => t!(i18n, devices.test_queued).into_any(),
                    Note::Worked(what) => t!(i18n, devices.test_worked, what).into_any(),
                    Note::Failed(code) => {
                        let problem = device_text(i18n, &code);
                        t!(i18n, devices.test_failed, problem).into_any()
                    }
                    Note::Added => t!(i18n, devices.added).into_any(),
                    Note::Removed(0) => t!(i18n, devices.removed).into_any(),
                    Note::Removed(stopped) => t!(i18n, devices.removed_with_jobs, stopped).into_any(),
                };
                view! { <p class="notice" role="status" id="device-note">{text}</p> }
            })}
            {move || error.get().map(|e| view! { <ErrorPanel error=e /> })}
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) => {
                        let counters = p.counters.clone();
                        let none = p.devices.is_empty();
                        view! {
                            {none.then(|| view! { <p class="muted">{t!(i18n, devices.none)}</p> })}
                            <table class="grid devices" hidden=none>
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, devices.name)}</th>
                                        <th>{t!(i18n, devices.state)}</th>
                                        <th>{t!(i18n, devices.counter)}</th>
                                        <th></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.devices.into_iter().map(|d| view! {
                                        <DeviceRow d=d counters=counters.clone()
                                            on_check=Callback::new(move |id| { check.dispatch(id); })
                                            on_test=Callback::new(move |id| { test.dispatch(id); })
                                            on_assign=Callback::new(move |pair| { assign.dispatch(pair); })
                                            on_accept=Callback::new(move |id| { accept.dispatch(id); })
                                            on_rename=Callback::new(move |pair| { rename.dispatch(pair); })
                                            on_remove=Callback::new(move |id| { remove.dispatch(id); }) />
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>{t!(i18n, jobs.recent)}</h2>
                            {if p.jobs.is_empty() {
                                view! { <p class="muted">{t!(i18n, jobs.none)}</p> }.into_any()
                            } else {
                                view! { <JobTable jobs=p.jobs on_reprint /> }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                })}
            </Transition>
        </section>
        <section class="panel">
            <h2>{t!(i18n, devices.found)}</h2>
            <button id="discover" on:click=move |_| { discover.dispatch(()); } disabled=move || discover.pending().get()>
                {move || if discover.pending().get() { t_string!(i18n, devices.searching) } else { t_string!(i18n, devices.search) }}
            </button>
            {move || discover.value().get().map(|r| match r {
                Ok(DiscoveryView { found, network_error }) => view! {
                    {network_error.map(|code| view! {
                        <p class="warning" role="status" id="discovery-error">
                            {t!(i18n, devices.network_search_failed)}" ("{device_text(i18n, &code)}")"
                        </p>
                    })}
                    {if found.is_empty() {
                        view! { <p class="muted">{t!(i18n, devices.found_none)}</p> }.into_any()
                    } else { view! {
                    <ul class="found">
                        {found.into_iter().map(|f| {
                            let label = format!("{} · {} · {} ({})", class_text(i18n, f.class), f.name, f.address, f.via);
                            let chosen = f.clone();
                            view! {
                                <li>
                                    {label}" "
                                    <button class="secondary-dark" on:click=move |_| pick(chosen.clone())>
                                        {t!(i18n, devices.use_found)}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    }.into_any() }}
                }.into_any(),
                Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
            })}
        </section>
        <section class="panel">
            <h2>{t!(i18n, devices.add)}</h2>
            <form class="device-form" on:submit=move |ev| { ev.prevent_default(); add.dispatch(()); }>
                <label for="device-class">{t!(i18n, devices.kind)}</label>
                <select id="device-class" on:change=move |ev| {
                    if let Some(c) = DeviceClass::from_code(&event_target_value(&ev)) { form_class.set(c); }
                }>
                    {DeviceClass::ALL.into_iter().map(|c| view! {
                        <option value=c.code() selected=move || form_class.get() == c>{move || class_text(i18n, c)}</option>
                    }).collect_view()}
                </select>
                <label for="device-name">{t!(i18n, devices.name)}</label>
                <input id="device-name" required maxlength="80" prop:value=form_name
                    on:input=move |ev| form_name.set(event_target_value(&ev)) />
                <label for="device-address">{t!(i18n, devices.address)}</label>
                <input id="device-address" required prop:value=form_address aria-describedby="address-hint"
                    placeholder=move || match form_class.get() {
                        DeviceClass::DocumentPrinter => "ipp://192.168.1.20/ipp/print",
                        DeviceClass::TicketPrinter => "192.168.1.50:9100",
                        DeviceClass::Scanner => "http://192.168.1.30:8080/eSCL",
                        DeviceClass::Biometric => "http://127.0.0.1:4501",
                    }
                    on:input=move |ev| form_address.set(event_target_value(&ev)) />
                <small class="muted" id="address-hint">{move || match form_class.get() {
                    DeviceClass::DocumentPrinter => t_string!(i18n, devices.hint_document_printer),
                    DeviceClass::TicketPrinter => t_string!(i18n, devices.hint_ticket_printer),
                    DeviceClass::Scanner => t_string!(i18n, devices.hint_scanner),
                    DeviceClass::Biometric => t_string!(i18n, devices.hint_biometric),
                }}</small>
                <label for="device-counter">{t!(i18n, devices.counter)}</label>
                <Transition>
                    {move || page.get().and_then(Result::ok).map(|p| view! {
                        <select id="device-counter" on:change=move |ev| form_counter.set(event_target_value(&ev))>
                            <option value="">{t!(i18n, devices.whole_office)}</option>
                            {p.counters.into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                    })}
                </Transition>
                <button type="submit" disabled=move || add.pending().get()>{t!(i18n, devices.add_button)}</button>
            </form>
        </section>
    }
}

#[component]
fn DeviceRow(
    d: DeviceView,
    counters: Vec<crate::api::CounterChoice>,
    on_check: Callback<String>,
    on_test: Callback<String>,
    on_assign: Callback<(String, String)>,
    on_accept: Callback<String>,
    on_rename: Callback<(String, String)>,
    on_remove: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let (id1, id2, id3, id4) = (d.id.clone(), d.id.clone(), d.id.clone(), d.id.clone());
    let (id5, id6) = (d.id.clone(), d.id.clone());
    // Renaming edits the name in place; removing asks once more.
    let editing = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let name = d.name.clone();
    let impostor = d.problems.iter().any(|p| p == "identity");
    let state = match d.ready {
        None => t_string!(i18n, devices.unchecked).to_string(),
        Some(true) => t_string!(i18n, devices.ready).to_string(),
        Some(false) => d.problems.iter().map(|p| device_text(i18n, p)).collect::<Vec<_>>().join("; "),
    };
    let state_class = match d.ready {
        Some(true) => "ok",
        Some(false) => "bad",
        None => "muted",
    };
    let supplies = d
        .supplies
        .iter()
        .map(|(name, level)| match level {
            Some(l) => format!("{name} {l}%"),
            None => name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let current = d.counter.clone().unwrap_or_default();
    view! {
        <tr data-device=d.id.clone()>
            <td>
                {move || match editing.get() {
                    Some(text) => {
                        let id5 = id5.clone();
                        view! {
                        <form class="rename" on:submit=move |ev| {
                            ev.prevent_default();
                            on_rename.run((id5.clone(), editing.get_untracked().unwrap_or_default()));
                            editing.set(None);
                        }>
                            <input class="device-rename" required maxlength="80" prop:value=text
                                aria-label=move || t_string!(i18n, devices.name)
                                on:input=move |ev| editing.set(Some(event_target_value(&ev))) />
                            " "<button type="submit">{t!(i18n, devices.save)}</button>
                        </form>
                    }.into_any()
                    }
                    None => {
                        let shown = name.clone();
                        view! {
                            <strong>{shown.clone()}</strong>" "
                            <button type="button" class="inline-action rename-device" on:click=move |_| editing.set(Some(shown.clone()))>
                                {t!(i18n, devices.rename)}
                            </button>
                        }.into_any()
                    }
                }}
                <br />
                <small>{class_text(i18n, d.class)}" · "<code>{d.address.clone()}</code></small>
                {d.model.clone().map(|m| view! { <br /><small class="muted">{m}</small> })}
                {d.certificate.clone().map(|c| {
                    // Grouped as printers show it on their own pages, to compare by eye.
                    let shown = c.as_bytes().chunks(2).take(8).map(|p| String::from_utf8_lossy(p).to_uppercase())
                        .collect::<Vec<_>>().join(":");
                    view! {
                        <br /><small class="muted device-certificate" title=c.clone()>
                            {t!(i18n, devices.certificate)}" SHA-256 "<code>{shown}"…"</code>
                        </small>
                    }
                })}
            </td>
            <td>
                <span class=state_class data-ready=d.ready.map(|r| r.to_string())>{state}</span>
                {(!d.warnings.is_empty()).then(|| {
                    let shown = d.warnings.iter().map(|w| warning_text(i18n, w)).collect::<Vec<_>>().join("; ");
                    view! { <br /><small class="warn device-warnings">{shown}</small> }
                })}
                {(!supplies.is_empty()).then(|| view! { <br /><small>{t!(i18n, devices.supplies)}": "{supplies.clone()}</small> })}
                {d.checked_at.clone().map(|t| view! { <br /><small class="muted">{t!(i18n, devices.checked_at, at = t)}</small> })}
            </td>
            <td>
                <select aria-label=move || t_string!(i18n, devices.counter)
                    on:change=move |ev| on_assign.run((id3.clone(), event_target_value(&ev)))>
                    <option value="" selected=current.is_empty()>{t!(i18n, devices.whole_office)}</option>
                    {counters.into_iter().map(|c| {
                        let selected = c.id == current;
                        view! { <option value=c.id.clone() selected=selected>{c.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td class="actions">
                <button class="secondary-dark" on:click=move |_| on_check.run(id1.clone())>{t!(i18n, devices.check)}</button>
                " "
                <button class="secondary-dark" on:click=move |_| on_test.run(id2.clone())>
                    {if d.class.prints() { t_string!(i18n, devices.test_print) } else if d.class == DeviceClass::Scanner { t_string!(i18n, devices.test_scan) } else { t_string!(i18n, devices.test_capture) }}
                </button>
                {impostor.then(|| view! {
                    " "
                    <button on:click=move |_| on_accept.run(id4.clone())>{t!(i18n, devices.accept_identity)}</button>
                })}
                " "
                {move || if confirming.get() {
                    let id = id6.clone();
                    view! {
                        <span class="confirm" role="group">
                            {t!(i18n, devices.remove_confirm)}" "
                            <button class="danger remove-yes" on:click=move |_| { confirming.set(false); on_remove.run(id.clone()); }>
                                {t!(i18n, devices.remove_yes)}
                            </button>" "
                            <button class="secondary-dark" on:click=move |_| confirming.set(false)>{t!(i18n, devices.remove_no)}</button>
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <button class="secondary-dark remove-device" on:click=move |_| confirming.set(true)>{t!(i18n, devices.remove)}</button>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
