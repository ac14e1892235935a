//! The biometric step: photo, signature, fingerprints and iris, with their exceptions.

use leptos::prelude::*;
use simpul_domain::application::Status;

use super::capture::DeviceCapture;
use crate::api::ApplicationView;
use crate::components::lang::{exception_text, finger_text};
use crate::components::layout::use_auth;

use crate::i18n::*;

#[component]
pub(super) fn Biometrics(app: ApplicationView, version: RwSignal<u32>) -> impl IntoView {
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
