//! The lifecycle steps the caller may take on an application, each with what it needs.

use leptos::prelude::*;
use simpul_domain::application::{Action, Status};

use crate::api::{ApplicationView, StepForm, application_step};
use crate::components::errors::message;
use crate::components::lang::{action_text, status_text};
use crate::components::layout::csrf_getter;
use crate::error::ApiError;

use crate::i18n::*;

/// A lifecycle step on its way to the server, and its answer. Kept by the page above the file
/// it draws: the file is drawn again whenever anything on it changes, and a step's answer that
/// arrived after that would otherwise be lost, leaving the page on the old status.
#[derive(Clone, Copy)]
pub(super) struct StepRunner {
    action: leptos::prelude::Action<(String, Action, StepForm), Result<Status, ApiError>>,
    error: RwSignal<Option<ApiError>>,
    done: RwSignal<Option<Status>>,
}

impl StepRunner {
    /// Provides the runner of the page's steps; an answer draws the file again (`version`).
    pub(super) fn provide(version: RwSignal<u32>) {
        let csrf = csrf_getter();
        let action = leptos::prelude::Action::new(move |(id, step, request): &(String, Action, StepForm)| {
            let (id, step, request, csrf) = (id.clone(), *step, request.clone(), csrf());
            let client_id = crate::client::fresh_id();
            async move { application_step(csrf, client_id, id, step, request).await }
        });
        let (error, done) = (RwSignal::new(None::<ApiError>), RwSignal::new(None::<Status>));
        Effect::new(move |_| match action.value().get() {
            Some(Ok(status)) => {
                error.set(None);
                done.set(Some(status));
                version.update(|v| *v += 1);
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        });
        provide_context(StepRunner { action, error, done });
    }
}

#[component]
pub(super) fn Steps(app: ApplicationView) -> impl IntoView {
    let i18n = use_i18n();
    let runner = expect_context::<StepRunner>();
    let StepRunner { action: step, error, done } = runner;
    let form =
        RwSignal::new(StepForm { recipient_nik: app.applicant.nik.clone(), copies: None, ..StepForm::default() });
    let picked = RwSignal::new(Vec::<usize>::new());
    let reasons = RwSignal::new(vec![String::new(); app.checklist.len()]);
    let id = app.id.clone();
    let request = move |action: Action| {
        let mut request = form.get_untracked();
        if action == Action::Return {
            let texts = reasons.get_untracked();
            request.reasons =
                picked.get_untracked().into_iter().map(|i| (i, texts.get(i).cloned().unwrap_or_default())).collect();
        }
        request
    };
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
                    let (a, app_id) = (*a, id.clone());
                    let class = match a {
                        Action::Cancel => "warn",
                        Action::Return => "secondary-dark",
                        _ => "primary",
                    };
                    let id = format!("step-{}", serde_json::to_value(a).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
                    view! {
                        <button type="button" class=class id=id disabled=move || step.pending().get()
                            on:click={
                                let app_id = app_id.clone();
                                move |_| { step.dispatch((app_id.clone(), a, request(a))); }
                            }>
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
