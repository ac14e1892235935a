//! The language switch (Bahasa Indonesia first, English second) and labels for typed values.

use leptos::prelude::*;
use leptos_use::UseLocalesOptions;
use simpul_domain::auth::Role;
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
