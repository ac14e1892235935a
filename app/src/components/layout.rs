//! The page frame: the session context every page reads, the header with office, hub link,
//! language and user, and the navigation by role.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use simpul_domain::auth::Permission;

use crate::api::{Login, Logout, SessionInfo, get_session};
use crate::components::lang::{LangSwitch, role_label};
use crate::components::link::LinkBanner;
use crate::error::ApiError;
use crate::i18n::*;

/// The session as every component sees it, with the login and logout actions that change it.
#[derive(Clone, Copy)]
pub struct AuthContext {
    /// Session, refetched after every login or logout.
    pub session: Resource<Result<SessionInfo, ApiError>>,
    /// The login action.
    pub login: ServerAction<Login>,
    /// The logout action.
    pub logout: ServerAction<Logout>,
}

/// Provides [`AuthContext`]. The session resource blocks the first byte of a server render, so
/// pages can redirect and set their status before anything is sent.
#[component]
pub fn Auth(children: Children) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let session = Resource::new_blocking(move || (login.version().get(), logout.version().get()), |_| get_session());
    provide_context(AuthContext { session, login, logout });
    children()
}

/// The session context; panics only if a component is used outside [`Auth`] (a programming error).
pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

/// Reads the session's CSRF token when called (for forms that change state), without tracking.
pub fn csrf_getter() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let auth = use_auth();
    move || auth.session.get_untracked().and_then(Result::ok).map(|s| s.csrf).unwrap_or_default()
}

/// Header, navigation and the page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // The router would treat "#main" as a navigation; move the focus ourselves.
    let main_ref = NodeRef::<leptos::html::Main>::new();
    let skip = move |ev: leptos::ev::MouseEvent| {
        if let Some(main) = main_ref.get() {
            ev.prevent_default();
            let _ = main.focus();
        }
    };
    // Kiosk and display screens run full-screen, without the staff frame. They are opened by
    // their own address on their own device, so the choice is made once per page load.
    let path = use_location().pathname.get_untracked();
    if path.starts_with("/kios") || path.starts_with("/layar") {
        view! { <main id="main" class="bare">{children()}</main> }.into_any()
    } else {
        view! { <Frame skip main_ref>{children()}</Frame> }.into_any()
    }
}

/// The staff frame: header, navigation, main.
#[component]
fn Frame(
    skip: impl Fn(leptos::ev::MouseEvent) + 'static,
    main_ref: NodeRef<leptos::html::Main>,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let unit = move || {
        auth.session
            .get()
            .and_then(Result::ok)
            .and_then(|s| s.unit)
            .map(|u| view! { <span class="unit">{u.name}" "<small>"("{u.code}")"</small></span> })
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip>
            {t!(i18n, skip_to_content)}
        </a>
        <header class="topbar">
            <A href="/" attr:class="brand">
                <img src="/pkg/favicon.svg" alt="" width="28" height="28" />
                <span>"Simpul"</span>
            </A>
            <Transition>{unit}</Transition>
            <LinkBanner />
            <LangSwitch />
            <Transition>
                <UserBox />
            </Transition>
        </header>
        <div class="frame">
            <Transition>
                <Nav />
            </Transition>
            <main id="main" tabindex="-1" node_ref=main_ref>
                {children()}
            </main>
        </div>
    }
}

/// Navigation entries the logged-in role may open.
#[component]
fn Nav() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let location = use_location();
    let current = move |href: &'static str| {
        let path = location.pathname.get();
        let active = if href == "/" { path == "/" } else { path.starts_with(href) };
        if active { "page" } else { "false" }
    };
    move || {
        let role = auth.session.get().and_then(Result::ok).and_then(|s| s.user).map(|u| u.role)?;
        let entries: Vec<(&'static str, Permission, AnyView)> = vec![
            ("/", Permission::ViewDashboard, t!(i18n, nav.home).into_any()),
            ("/katalog", Permission::ViewCatalog, t!(i18n, nav.catalog).into_any()),
            ("/pengguna", Permission::ViewStaff, t!(i18n, nav.staff).into_any()),
            ("/loket", Permission::ServeCounter, t!(i18n, nav.counter).into_any()),
            ("/permohonan", Permission::ViewApplications, t!(i18n, nav.applications).into_any()),
            ("/sistem", Permission::ViewSystem, t!(i18n, nav.system).into_any()),
            ("/perangkat", Permission::ManageDevices, t!(i18n, nav.devices).into_any()),
            ("/konflik", Permission::ResolveConflicts, t!(i18n, nav.conflicts).into_any()),
            ("/kotak", Permission::ManageBoxes, t!(i18n, nav.boxes).into_any()),
        ];
        let links = entries
            .into_iter()
            .filter(|(_, p, _)| role.allows(*p))
            .map(|(href, _, label)| {
                view! {
                    <li>
                        <A href=href attr:aria-current=move || current(href)>
                            {label}
                        </A>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <nav class="sidenav" aria-label=move || t_string!(i18n, nav.menu)>
                <ul>{links}</ul>
            </nav>
        })
    }
}

/// The logged-in user's name and role, and the logout button.
#[component]
fn UserBox() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    move || {
        let session = auth.session.get().and_then(Result::ok)?;
        let user = session.user?;
        Some(view! {
            <div class="userbox">
                <span class="who">
                    <strong>{user.display_name}</strong>
                    <small>{role_label(i18n, user.role)}" · "<a href="/akun" id="account-link">{t!(i18n, nav.account)}</a></small>
                </span>
                <ActionForm action=auth.logout>
                    <input type="hidden" name="csrf" value=session.csrf />
                    <button type="submit" class="secondary">
                        {t!(i18n, nav.logout)}
                    </button>
                </ActionForm>
            </div>
        })
    }
}
