//! The login page. Works without JavaScript (a plain form POST) and, once hydrated, without a
//! reload.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::safe_next;
use crate::components::errors::message;
use crate::components::layout::use_auth;
use crate::error::ApiError;
use crate::i18n::*;

/// "Masuk": username, password, the CSRF token, and where to go afterwards.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    let expired_notice = move || query.read().get("sesi").is_some_and(|v| v == "habis");
    let changed_notice = move || query.read().get("sandi").is_some_and(|v| v == "diganti");
    let pending = auth.login.pending();
    let failure = move || match auth.login.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let session = match auth.session.await {
                    Ok(s) => s,
                    Err(e) => {
                        return view! { <p class="error" role="alert">{message(i18n, e)}</p> }.into_any();
                    }
                };
                if session.user.is_some() {
                    return view! { <Redirect path=next() /> }.into_any();
                }
                view! {
                    <section class="panel login">
                        <h1>{t!(i18n, login.title)}</h1>
                        <p>{t!(i18n, login.intro)}</p>
                        {session.unit.map(|u| view! { <p class="muted">{t!(i18n, login.office)}": "{u.name}</p> })}
                        <Show when=move || changed_notice() && failure().is_none()>
                            <p class="notice" role="status" id="password-changed">{t!(i18n, login.password_changed)}</p>
                        </Show>
                        <Show when=move || expired_notice() && failure().is_none()>
                            <p class="notice" role="status">{message(i18n, ApiError::SessionExpired)}</p>
                        </Show>
                        <ActionForm action=auth.login>
                            <input type="hidden" name="csrf" value=session.csrf.clone() />
                            <input type="hidden" name="next" value=next />
                            <label for="username">{t!(i18n, login.username)}</label>
                            <input
                                id="username"
                                name="username"
                                autocomplete="username"
                                autocapitalize="none"
                                spellcheck="false"
                                required
                                autofocus
                                maxlength="64"
                            />
                            <label for="password">{t!(i18n, login.password)}</label>
                            <input
                                id="password"
                                name="password"
                                type="password"
                                autocomplete="current-password"
                                required
                                maxlength="256"
                            />
                            <button type="submit" class="primary" disabled=move || pending.get()>
                                {move || if pending.get() { t_string!(i18n, login.submitting) } else { t_string!(i18n, login.submit) }}
                            </button>
                        </ActionForm>
                        {move || failure().map(|e| view! { <p class="error" role="alert" id="login-error">{message(i18n, e)}</p> })}
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}
