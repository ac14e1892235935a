//! The applicant form, shared by intake and corrections, and the problems the server found in it.

use crate::api::ApplicantForm;
use crate::components::lang::{field_text, problem_text};
use crate::error::{ApiError, Refusal};
use leptos::prelude::*;

use crate::i18n::*;

pub(super) type Problems = RwSignal<Vec<(String, String, String)>>;

pub(super) fn field_error(
    i18n: leptos_i18n::I18nContext<Locale>,
    problems: Problems,
    field: &'static str,
) -> impl IntoView {
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
pub(super) fn ApplicantFields(form: RwSignal<ApplicantForm>, problems: Problems) -> impl IntoView {
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

pub(super) fn problems_of(e: &ApiError) -> Vec<(String, String, String)> {
    match e {
        ApiError::Refused(Refusal::Fields(f)) => f.clone(),
        _ => Vec::new(),
    }
}
