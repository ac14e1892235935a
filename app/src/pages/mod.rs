//! The pages, one module each, and the guard that keeps them behind a login and a permission.

pub mod account;
pub mod applications;
pub mod catalog;
pub mod counter;
pub mod devices;
pub mod display;
pub mod home;
pub mod kiosk;
pub mod login;
pub mod not_found;
pub mod staff;
pub mod sync;
pub mod system;

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;
use simpul_domain::auth::Permission;

use crate::api::{SessionInfo, UserView};
use crate::components::errors::ErrorPanel;
use crate::components::layout::use_auth;
use crate::error::ApiError;
use crate::i18n::*;

/// Shows `children` to a logged-in user whose role holds `permission`; sends everyone else to
/// the login page (keeping where they wanted to go) or shows why they may not see it. The server
/// checks again in every server function: this guard is for the page, not for the data.
#[component]
pub fn Guard(permission: Permission, children: ChildrenFn) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let location = use_location();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match auth.session.await {
                    Ok(SessionInfo { user: Some(user), .. }) if user.role.allows(permission) => {
                        provide_context(user);
                        children.read_value()().into_any()
                    }
                    Ok(SessionInfo { user: Some(_), .. }) => view! { <ErrorPanel error=ApiError::Forbidden /> }.into_any(),
                    Ok(SessionInfo { user: None, expired, .. }) => {
                        let next = location.pathname.get_untracked();
                        let mut path = format!("/masuk?next={}", urlencode(&next));
                        if expired {
                            path.push_str("&sesi=habis");
                        }
                        view! { <Redirect path=path /> }.into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The user the guard let through.
pub fn use_user() -> UserView {
    expect_context::<UserView>()
}

/// Percent-encodes a query string value.
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
