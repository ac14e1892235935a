//! "Akun saya": the logged-in staff member changes their own password. Works without
//! JavaScript (a plain form POST); every session of the account ends with the change.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::components::Redirect;

use crate::api::ChangePassword;
use crate::components::errors::message;
use crate::components::layout::use_auth;
use crate::error::{ApiError, Refusal};
use crate::i18n::*;

/// The words for a refused change.
fn problem_text(i18n: I18nContext<Locale>, e: ApiError) -> AnyView {
    let text = match &e {
        ApiError::InvalidCredentials => t_string!(i18n, account.wrong_current).to_string(),
        ApiError::Refused(Refusal::Fields(fields)) => fields
            .iter()
            .map(|(_, code, _)| match code.as_str() {
                "mismatch" => t_string!(i18n, account.mismatch).to_string(),
                "too_short" => t_string!(i18n, account.too_short).to_string(),
                "too_long" => t_string!(i18n, account.too_long).to_string(),
                "same_as_username" => t_string!(i18n, account.same_as_username).to_string(),
                _ => t_string!(i18n, account.too_simple).to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => return message(i18n, e),
    };
    text.into_any()
}

/// The password form.
#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let change = ServerAction::<ChangePassword>::new();
    // After a change the session is gone: the shell learns it with the next session read.
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            auth.session.refetch();
        }
    });
    let pending = change.pending();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let session = match auth.session.await {
                    Ok(s) => s,
                    Err(e) => return view! { <p class="error" role="alert">{message(i18n, e)}</p> }.into_any(),
                };
                let Some(user) = session.user else {
                    return view! { <Redirect path="/masuk?next=/akun" /> }.into_any();
                };
                view! {
                    <section class="panel account" aria-labelledby="h-account">
                        <h1 id="h-account">{t!(i18n, account.title)}</h1>
                        <p>{user.display_name.clone()}" · "<code>{user.username.clone()}</code></p>
                        <p class="muted">{t!(i18n, account.intro)}</p>
                        <ActionForm action=change>
                            <input type="hidden" name="csrf" value=session.csrf.clone() />
                            <input type="text" name="username" autocomplete="username" value=user.username.clone() hidden />
                            <label for="current">{t!(i18n, account.current)}</label>
                            <input id="current" name="current" type="password" autocomplete="current-password"
                                required maxlength="256" />
                            <label for="new_password">{t!(i18n, account.new)}</label>
                            <input id="new_password" name="new_password" type="password" autocomplete="new-password"
                                required minlength="10" maxlength="128" aria-describedby="password-rule" />
                            <small id="password-rule" class="muted">{t!(i18n, account.rule)}</small>
                            <label for="repeat">{t!(i18n, account.repeat)}</label>
                            <input id="repeat" name="repeat" type="password" autocomplete="new-password"
                                required maxlength="128" />
                            <button type="submit" class="primary" id="change-password" disabled=move || pending.get()>
                                {t!(i18n, account.submit)}
                            </button>
                        </ActionForm>
                        {move || match change.value().get() {
                            Some(Err(e)) => Some(view! {
                                <p class="error" role="alert" id="password-error">{problem_text(i18n, e)}</p>
                            }),
                            _ => None,
                        }}
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}
