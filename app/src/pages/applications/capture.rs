//! Capture on a biometric device: on the counter PC (the browser speaks SBI to it) or on the box,
//! with live preview, and the fingers or eyes that cannot be captured.

use crate::components::errors::message;
use crate::components::lang::{exception_text, finger_text};
use crate::components::layout::csrf_getter;
use crate::error::ApiError;
#[cfg(feature = "hydrate")]
use crate::error::Refusal;
use leptos::prelude::*;

use crate::i18n::*;

/// Where this counter PC keeps the address of its biometric device service.
#[cfg(feature = "hydrate")]
pub(super) const SBI_ADDRESS_KEY: &str = "simpul.sbi";

/// What staff chose on the capture panel of one application: the fingers and eyes that cannot
/// be captured, why, and whether that part of the panel is open.
#[derive(Clone, Copy)]
pub(super) struct CaptureChoices {
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
pub(super) const PREVIEW_SECONDS: u32 = 20;

/// Capture on the biometric device service of this counter PC: the browser speaks SBI to it
/// and hands the signed captures to the box. Fingers that cannot be captured are left out of
/// the capture and recorded as exceptions with their reason.
#[component]
pub(super) fn DeviceCapture(id: String, version: RwSignal<u32>) -> impl IntoView {
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

/// Captures `modality` on the biometric device service of this counter PC at `base`, leaving
/// out the `skipped` fingers or eyes, and hands the signed captures to the box under a
/// transaction the box names. Answers how many the box recorded.
pub(super) async fn capture_here(
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
