//! The language switch (Bahasa Indonesia first, English second) and labels for typed values.

use leptos::prelude::*;
use leptos_use::UseLocalesOptions;
use simpul_domain::application::{Action, Status};
use simpul_domain::auth::Role;
use simpul_domain::calendar::SlaStatus;
use simpul_domain::catalog::{CompletionTime, ServiceKind};

use crate::i18n::*;
use leptos_i18n::I18nContext;

/// Language negotiation that ignores the browser's Accept-Language: staff get Indonesian until
/// they choose English (the choice is kept in a cookie).
pub fn indonesian_first() -> UseLocalesOptions {
    UseLocalesOptions::default().ssr_lang_header_getter(|| None)
}

/// Two buttons, ID and EN; switching changes every text at once, without a reload.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let button = move |locale: Locale, label: &'static str, title: &'static str| {
        view! {
            <button
                type="button"
                class="lang"
                lang=locale.as_str()
                title=title
                aria-pressed=move || (i18n.get_locale() == locale).to_string()
                on:click=move |_| i18n.set_locale(locale)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="lang-switch" role="group" aria-label=move || t_string!(i18n, language)>
            {button(Locale::id, "ID", "Bahasa Indonesia")}
            {button(Locale::en, "EN", "English")}
        </div>
    }
}

/// A role's name in the current language.
pub fn role_label(i18n: I18nContext<Locale>, role: Role) -> impl IntoView {
    move || match role {
        Role::Petugas => t_string!(i18n, roles.petugas),
        Role::Verifikator => t_string!(i18n, roles.verifikator),
        Role::Kepala => t_string!(i18n, roles.kepala),
        Role::AdminKabupaten => t_string!(i18n, roles.admin_kabupaten),
        Role::Installer => t_string!(i18n, roles.installer),
    }
}

/// A service kind's name in the current language.
pub fn kind_label(i18n: I18nContext<Locale>, kind: ServiceKind) -> impl IntoView {
    move || match kind {
        ServiceKind::KtpElForeignNew => t_string!(i18n, kinds.ktp_el_foreign_new),
        ServiceKind::KtpElNew => t_string!(i18n, kinds.ktp_el_new),
        ServiceKind::KtpElReissue => t_string!(i18n, kinds.ktp_el_reissue),
        ServiceKind::KtpElReplacement => t_string!(i18n, kinds.ktp_el_replacement),
        ServiceKind::Legalisation => t_string!(i18n, kinds.legalisation),
        ServiceKind::IkdActivation => t_string!(i18n, kinds.ikd_activation),
        ServiceKind::Other => t_string!(i18n, kinds.other),
    }
}

/// A completion time in the current language ("1 hari kerja" / "1 working day").
pub fn completion_label(locale: Locale, time: CompletionTime) -> String {
    let plural = |n: u64, one: &str, many: &str| if n == 1 { format!("{n} {one}") } else { format!("{n} {many}") };
    match (locale, time) {
        (Locale::id, t) => t.to_string(),
        (Locale::en, CompletionTime::WorkingDays(n)) => plural(n.into(), "working day", "working days"),
        (Locale::en, CompletionTime::CalendarDays(n)) => plural(n.into(), "day", "days"),
        (Locale::en, CompletionTime::Minutes(0)) => "immediately (while the applicant waits)".to_string(),
        (Locale::en, CompletionTime::Minutes(n)) if n >= 60 && n % 60 == 0 => plural((n / 60).into(), "hour", "hours"),
        (Locale::en, CompletionTime::Minutes(n)) => plural(n.into(), "minute", "minutes"),
    }
}

/// An application status in the current language.
pub fn status_text(i18n: I18nContext<Locale>, status: Status) -> String {
    match status {
        Status::Draft => t_string!(i18n, status.draft).to_string(),
        Status::Submitted => t_string!(i18n, status.submitted).to_string(),
        Status::Returned => t_string!(i18n, status.returned).to_string(),
        Status::Verified => t_string!(i18n, status.verified).to_string(),
        Status::BiometricsRecorded => t_string!(i18n, status.biometrics_recorded).to_string(),
        Status::SentForIdentification => t_string!(i18n, status.sent_for_identification).to_string(),
        Status::Clarification => t_string!(i18n, status.clarification).to_string(),
        Status::ReadyToPrint => t_string!(i18n, status.ready_to_print).to_string(),
        Status::Ready => t_string!(i18n, status.ready).to_string(),
        Status::HandedOver => t_string!(i18n, status.handed_over).to_string(),
        Status::Cancelled => t_string!(i18n, status.cancelled).to_string(),
    }
}

/// A status code from the server in the current language (the code itself if unknown).
pub fn status_code_text(i18n: I18nContext<Locale>, code: &str) -> String {
    Status::from_code(code).map_or_else(|| code.to_string(), |s| status_text(i18n, s))
}

/// A lifecycle step's button label.
pub fn action_text(i18n: I18nContext<Locale>, action: Action) -> String {
    match action {
        Action::Submit => t_string!(i18n, action.submit).to_string(),
        Action::Return => t_string!(i18n, action.return_file).to_string(),
        Action::Resubmit => t_string!(i18n, action.resubmit).to_string(),
        Action::Verify => t_string!(i18n, action.verify).to_string(),
        Action::RecordBiometrics => t_string!(i18n, action.record_biometrics).to_string(),
        Action::SendForIdentification => t_string!(i18n, action.send_for_identification).to_string(),
        Action::IdentifiedSingle => t_string!(i18n, action.identified_single).to_string(),
        Action::IdentifiedDouble => t_string!(i18n, action.identified_double).to_string(),
        Action::ResolveClarification => t_string!(i18n, action.resolve_clarification).to_string(),
        Action::Produce => t_string!(i18n, action.produce).to_string(),
        Action::HandOver => t_string!(i18n, action.hand_over).to_string(),
        Action::Cancel => t_string!(i18n, action.cancel).to_string(),
    }
}

/// Where an application stands against its due time.
pub fn sla_text(i18n: I18nContext<Locale>, sla: SlaStatus, status: simpul_domain::application::Status) -> String {
    match sla {
        SlaStatus::Paused if status == simpul_domain::application::Status::Returned => {
            t_string!(i18n, sla.paused_applicant).to_string()
        }
        SlaStatus::OnTrack => t_string!(i18n, sla.on_track).to_string(),
        SlaStatus::DueToday => t_string!(i18n, sla.due_today).to_string(),
        SlaStatus::AboutToBreach => t_string!(i18n, sla.about_to_breach).to_string(),
        SlaStatus::Late => t_string!(i18n, sla.late).to_string(),
        SlaStatus::Paused => t_string!(i18n, sla.paused).to_string(),
    }
}

/// CSS class of an SLA state.
pub fn sla_class(sla: Option<SlaStatus>) -> &'static str {
    match sla {
        Some(SlaStatus::Late) => "sla sla-late",
        Some(SlaStatus::AboutToBreach) => "sla sla-breach",
        Some(SlaStatus::DueToday) => "sla sla-today",
        Some(SlaStatus::Paused) => "sla sla-paused",
        _ => "sla",
    }
}

/// A form field's label, by its code.
pub fn field_text(i18n: I18nContext<Locale>, field: &str) -> String {
    match field {
        "nik" => t_string!(i18n, field.nik).to_string(),
        "name" => t_string!(i18n, field.name).to_string(),
        "sex" => t_string!(i18n, field.sex).to_string(),
        "birth_place" => t_string!(i18n, field.birth_place).to_string(),
        "birth_date" => t_string!(i18n, field.birth_date).to_string(),
        "marital" => t_string!(i18n, field.marital).to_string(),
        "address" => t_string!(i18n, field.address).to_string(),
        "region" => t_string!(i18n, field.region).to_string(),
        "kk_number" => t_string!(i18n, field.kk_number).to_string(),
        "nationality" => t_string!(i18n, field.nationality).to_string(),
        "passport" => t_string!(i18n, field.passport).to_string(),
        "permit" => t_string!(i18n, field.permit).to_string(),
        "phone" => t_string!(i18n, field.phone).to_string(),
        "email" => t_string!(i18n, field.email).to_string(),
        other => other.to_string(),
    }
}

/// A field problem, by its code, with its detail.
pub fn problem_text(i18n: I18nContext<Locale>, problem: &str, detail: &str) -> String {
    let detail = detail.to_string();
    match problem {
        "too_long" => with_detail(t_string!(i18n, problem.too_long).to_string(), &detail),
        "nik" => with_detail(t_string!(i18n, problem.nik).to_string(), &detail),
        "nik_mismatch" => with_detail(t_string!(i18n, problem.nik_mismatch).to_string(), &detail),
        "future" => t_string!(i18n, problem.future).to_string(),
        "too_old" => t_string!(i18n, problem.too_old).to_string(),
        "too_young" => t_string!(i18n, problem.too_young).to_string(),
        "kk_number" => t_string!(i18n, problem.kk_number).to_string(),
        "unknown_region" => with_detail(t_string!(i18n, problem.unknown_region).to_string(), &detail),
        "region_level" => t_string!(i18n, problem.region_level).to_string(),
        "expired" => with_detail(t_string!(i18n, problem.expired).to_string(), &detail),
        "passport_before_card" => with_detail(t_string!(i18n, problem.passport_before_card).to_string(), &detail),
        "required_for_foreigner" => t_string!(i18n, problem.required_for_foreigner).to_string(),
        "only_for_foreigner" => t_string!(i18n, problem.only_for_foreigner).to_string(),
        "country_code" => t_string!(i18n, problem.country_code).to_string(),
        "phone" => t_string!(i18n, problem.phone).to_string(),
        "email" => t_string!(i18n, problem.email).to_string(),
        _ => t_string!(i18n, problem.missing).to_string(),
    }
}

fn with_detail(text: String, detail: &str) -> String {
    if detail.is_empty() { text } else { format!("{text}: {detail}.") }
}

/// What a step still needs, by its code.
pub fn needs_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "recipient" => t_string!(i18n, needs.recipient).to_string(),
        "no_proxy" => t_string!(i18n, needs.no_proxy).to_string(),
        "withdrawal" => t_string!(i18n, needs.withdrawal).to_string(),
        "withdrawal_details" => t_string!(i18n, needs.withdrawal_details).to_string(),
        "copies" => t_string!(i18n, needs.copies).to_string(),
        "photo_and_signature" => t_string!(i18n, needs.photo_and_signature).to_string(),
        "all_fingers" => t_string!(i18n, needs.all_fingers).to_string(),
        "capture_window" => t_string!(i18n, needs.capture_window).to_string(),
        "capture_content" => t_string!(i18n, needs.capture_content).to_string(),
        "other_reference" => t_string!(i18n, needs.other_reference).to_string(),
        "cancel_reason" => t_string!(i18n, needs.cancel_reason).to_string(),
        other => other.to_string(),
    }
}

/// Why a power of attorney does not cover an act, by its code.
pub fn poa_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "not_yet_valid" => t_string!(i18n, poa.not_yet_valid).to_string(),
        "expired" => t_string!(i18n, poa.expired).to_string(),
        "out_of_scope" => t_string!(i18n, poa.out_of_scope).to_string(),
        "other_grantor" => t_string!(i18n, poa.other_grantor).to_string(),
        "other_grantee" => t_string!(i18n, poa.other_grantee).to_string(),
        _ => t_string!(i18n, poa.malformed).to_string(),
    }
}

/// The message after an upload, by the code the server put in the address.
pub fn upload_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "upload_empty" => t_string!(i18n, upload.upload_empty).to_string(),
        "upload_too_large" => t_string!(i18n, upload.upload_too_large).to_string(),
        "upload_wrong_type" => t_string!(i18n, upload.upload_wrong_type).to_string(),
        "upload_bad_name" => t_string!(i18n, upload.upload_bad_name).to_string(),
        "locked" => t_string!(i18n, upload.locked).to_string(),
        "capture_window" => t_string!(i18n, upload.capture_window).to_string(),
        "capture_content" => t_string!(i18n, upload.capture_content).to_string(),
        "csrf" => t_string!(i18n, upload.csrf).to_string(),
        "forbidden" => t_string!(i18n, upload.forbidden).to_string(),
        "not_found" => t_string!(i18n, upload.not_found).to_string(),
        "wrong_state" => t_string!(i18n, upload.wrong_state).to_string(),
        "disk_full" => t_string!(i18n, errors.disk_full).to_string(),
        _ => t_string!(i18n, upload.other).to_string(),
    }
}

/// What a device error code means for staff.
pub fn device_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "media_empty" => t_string!(i18n, device.media_empty).to_string(),
        "media_jam" => t_string!(i18n, device.media_jam).to_string(),
        "cover_open" => t_string!(i18n, device.cover_open).to_string(),
        "marker_empty" => t_string!(i18n, device.marker_empty).to_string(),
        "offline" => t_string!(i18n, device.offline).to_string(),
        "unreachable" => t_string!(i18n, device.unreachable).to_string(),
        "timeout" => t_string!(i18n, device.timeout).to_string(),
        "dropped" => t_string!(i18n, device.dropped).to_string(),
        "protocol" => t_string!(i18n, device.protocol).to_string(),
        "too_large" => t_string!(i18n, device.too_large).to_string(),
        "unsupported" => t_string!(i18n, device.unsupported).to_string(),
        "identity" => t_string!(i18n, device.identity).to_string(),
        "no_printer" => t_string!(i18n, device.no_printer).to_string(),
        "no_scanner" => t_string!(i18n, device.no_scanner).to_string(),
        "no_biometric_device" => t_string!(i18n, device.no_biometric_device).to_string(),
        "no_biometric" => t_string!(i18n, device.no_biometric).to_string(),
        "capture_transaction" => t_string!(i18n, device.capture_transaction).to_string(),
        "busy" => t_string!(i18n, device.busy).to_string(),
        "aborted" => t_string!(i18n, device.aborted).to_string(),
        "stopped" => t_string!(i18n, device.stopped).to_string(),
        "no_device" => t_string!(i18n, device.no_device).to_string(),
        "not_a_printer" => t_string!(i18n, device.not_a_printer).to_string(),
        "not_checked" => t_string!(i18n, device.not_checked).to_string(),
        "duplicate" => t_string!(i18n, device.duplicate).to_string(),
        "paper_low" => t_string!(i18n, device.paper_low).to_string(),
        "discovery" => t_string!(i18n, device.discovery).to_string(),
        "device_removed" => t_string!(i18n, device.device_removed).to_string(),
        "uncertain" => t_string!(i18n, device.uncertain).to_string(),
        "interrupted" => t_string!(i18n, device.interrupted).to_string(),
        "abandoned" => t_string!(i18n, device.abandoned).to_string(),
        "not_stored" => t_string!(i18n, device.not_stored).to_string(),
        other => format!("{}: {}", t_string!(i18n, device.other), other.strip_prefix("other:").unwrap_or(other)),
    }
}

/// A device warning (it still works), by its code: IPP's `printer-state-reasons` keywords
/// without their suffix, and Simpul's own.
pub fn warning_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "toner-low" | "marker-supply-low" => t_string!(i18n, device.toner_low).to_string(),
        "media-low" | "paper_low" => t_string!(i18n, device.paper_low).to_string(),
        "no_a4" => t_string!(i18n, device.no_a4).to_string(),
        other => other.to_string(),
    }
}

/// Why the hub link or a sync session failed, by its stable code.
pub fn link_problem_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "timeout" => t_string!(i18n, link_problem.timeout),
        "unreachable" => t_string!(i18n, link_problem.unreachable),
        "hub_http" => t_string!(i18n, link_problem.hub_http),
        "not_a_hub" => t_string!(i18n, link_problem.not_a_hub),
        "hub_refused" => t_string!(i18n, link_problem.hub_refused),
        "files_refused" => t_string!(i18n, link_problem.files_refused),
        "revoked" => t_string!(i18n, link_problem.revoked),
        "not_enrolled" => t_string!(i18n, link_problem.not_enrolled),
        "clock_skew" => t_string!(i18n, link_problem.clock_skew),
        "no_unit" => t_string!(i18n, link_problem.no_unit),
        "storage" => t_string!(i18n, link_problem.storage),
        "bad_answer" => t_string!(i18n, link_problem.bad_answer),
        "certificate" => t_string!(i18n, link_problem.certificate),
        "certificate_expired" => t_string!(i18n, link_problem.certificate_expired),
        _ => t_string!(i18n, link_problem.other),
    }
    .to_string()
}

/// A settled record field (`applicant.name`, `status`, the cross-office rule) for staff.
pub fn settled_field_text(i18n: I18nContext<Locale>, field: &str) -> String {
    if field.ends_with("@other_office") {
        return t_string!(i18n, resolution.other_office).to_string();
    }
    if field == "status" {
        return t_string!(i18n, resolution.status).to_string();
    }
    let name = field.strip_prefix("applicant.").unwrap_or(field);
    let base = name
        .strip_suffix("_number")
        .filter(|b| ["passport", "permit"].contains(b))
        .or_else(|| name.strip_suffix("_expires").filter(|b| ["passport", "permit"].contains(b)))
        .unwrap_or(name);
    field_text(i18n, base)
}

/// A finger's name.
pub fn finger_text(i18n: I18nContext<Locale>, finger: simpul_sbi::BioSubType) -> String {
    use simpul_sbi::BioSubType::*;
    match finger {
        LeftThumb => t_string!(i18n, finger.left_thumb),
        LeftIndex => t_string!(i18n, finger.left_index),
        LeftMiddle => t_string!(i18n, finger.left_middle),
        LeftRing => t_string!(i18n, finger.left_ring),
        LeftLittle => t_string!(i18n, finger.left_little),
        RightThumb => t_string!(i18n, finger.right_thumb),
        RightIndex => t_string!(i18n, finger.right_index),
        RightMiddle => t_string!(i18n, finger.right_middle),
        RightRing => t_string!(i18n, finger.right_ring),
        RightLittle => t_string!(i18n, finger.right_little),
        LeftIris => t_string!(i18n, finger.left_eye),
        RightIris => t_string!(i18n, finger.right_eye),
        Unknown => "—",
    }
    .to_string()
}

/// An exception reason recorded in place of a capture; older records kept a sentence.
pub fn exception_text(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "missing" => t_string!(i18n, capture.reason_missing).to_string(),
        "injured" => t_string!(i18n, capture.reason_injured).to_string(),
        "not_captured" => t_string!(i18n, capture.reason_not_captured).to_string(),
        other => other.to_string(),
    }
}
