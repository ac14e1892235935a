//! The home page: who is logged in, where, and the dashboard of the role: the counter's queue
//! and open applications, the verifier's files to verify, the office head's throughput, SLA and
//! queue figures. What this version cannot do yet is said at the bottom.

use leptos::prelude::*;
use leptos_router::components::A;
use simpul_domain::auth::Permission;

use super::{Guard, use_user};
use crate::api::{DashboardView, get_dashboard};
use crate::components::errors::ErrorPanel;
use crate::components::lang::{role_label, settled_field_text};
use crate::components::layout::use_auth;
use crate::i18n::*;
use crate::pages::applications::RowsTable;
use simpul_domain::auth::Role;

/// "Beranda".
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewDashboard>
            <Home />
        </Guard>
    }
}

#[component]
fn Home() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_user();
    let auth = use_auth();
    let unit = move || auth.session.get().and_then(Result::ok).and_then(|s| s.unit);
    let name = user.display_name.clone();
    view! {
        <section class="panel">
            <h1>{t!(i18n, home.welcome, name = name.clone())}</h1>
            <dl class="facts">
                <dt>{t!(i18n, home.your_role)}</dt>
                <dd data-role=user.role.code()>{role_label(i18n, user.role)}</dd>
                <dt>{t!(i18n, home.office)}</dt>
                <dd>
                    {move || match unit() {
                        Some(u) => format!("{} ({})", u.name, u.code),
                        None => t_string!(i18n, home.not_enrolled).to_string(),
                    }}
                </dd>
            </dl>
            <p>
                <A href="/katalog" attr:class="button primary">
                    {t!(i18n, home.open_catalog)}
                </A>
            </p>
        </section>
        <Dashboard />
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_user();
    let role = user.role;
    let data = Resource::new(|| (), |_| get_dashboard());
    let body = move || {
        let d: DashboardView = match data.get()? {
            Ok(d) => d,
            Err(e) => return Some(view! { <ErrorPanel error=e /> }.into_any()),
        };
        let counter = matches!(role, Role::Petugas | Role::Kepala);
        let verifier = matches!(role, Role::Verifikator | Role::Kepala);
        let head = matches!(role, Role::Kepala | Role::AdminKabupaten);
        let list = |title: AnyView, id: &'static str, rows: Vec<crate::api::ApplicationRow>| {
            view! {
                <section class="panel" aria-labelledby=id>
                    <h2 id=id>{title}" ("{rows.len()}")"</h2>
                    <RowsTable rows />
                </section>
            }
        };
        let figure = |label: AnyView, value: String, id: &'static str| {
            view! { <div class="figure"><span class="value" id=id>{value}</span><span class="label">{label}</span></div> }
        };
        let settled = (!d.settled.is_empty()).then(|| {
            let notices = d.settled.clone();
            view! {
                <section class="panel notice" id="dash-settled" role="status" aria-labelledby="dash-settled-title">
                    <h2 id="dash-settled-title">{t!(i18n, dash.settled)}" ("{notices.len()}")"</h2>
                    <ul>
                        {notices.into_iter().map(|n| {
                            let field = settled_field_text(i18n, &n.field);
                            view! {
                                <li data-settled=n.id.clone()>
                                    <A href=format!("/permohonan/{}", n.id)>{n.number.clone()}</A>
                                    " — "{field}" · "{n.at.clone()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
        });
        Some(
            view! {
                {settled}
                <section class="panel figures" aria-label=move || t_string!(i18n, dash.today)>
                    {figure(t!(i18n, dash.waiting).into_any(), format!("{} + {}", d.waiting.0, d.waiting.1), "fig-waiting")}
                    {figure(t!(i18n, dash.tickets).into_any(), d.tickets_today.to_string(), "fig-tickets")}
                    {figure(t!(i18n, dash.served).into_any(), d.served_today.to_string(), "fig-served")}
                    {figure(t!(i18n, dash.avg_wait).into_any(), d.average_wait_minutes.map_or("—".into(), |m| m.to_string()), "fig-wait")}
                    {figure(t!(i18n, dash.opened).into_any(), d.opened_today.to_string(), "fig-opened")}
                    {figure(t!(i18n, dash.handed).into_any(), d.handed_over_today.to_string(), "fig-handed")}
                </section>
                {counter.then(|| list(t!(i18n, dash.mine).into_any(), "dash-mine", d.mine_open.clone()))}
                {counter.then(|| list(t!(i18n, dash.ready).into_any(), "dash-ready", d.ready.clone()))}
                {verifier.then(|| list(t!(i18n, dash.to_verify).into_any(), "dash-verify", d.to_verify.clone()))}
                {head.then(|| view! {
                    <section class="panel" aria-labelledby="dash-sla">
                        <h2 id="dash-sla">{t!(i18n, dash.sla)}</h2>
                        <h3>{t!(i18n, sla.late)}" ("{d.late.len()}")"</h3>
                        <RowsTable rows=d.late.clone() />
                        <h3>{t!(i18n, sla.about_to_breach)}" ("{d.about_to_breach.len()}")"</h3>
                        <RowsTable rows=d.about_to_breach.clone() />
                        <h3>{t!(i18n, sla.due_today)}" ("{d.due_today.len()}")"</h3>
                        <RowsTable rows=d.due_today.clone() />
                    </section>
                    <section class="panel" aria-labelledby="dash-queue">
                        <h2 id="dash-queue">{t!(i18n, dash.queue)}</h2>
                        <table class="table" id="queue-figures">
                            <thead><tr>
                                <th>{t!(i18n, dash.group)}</th><th></th><th>{t!(i18n, dash.issued)}</th>
                                <th>{t!(i18n, dash.served)}</th><th>{t!(i18n, dash.wait)}</th><th>{t!(i18n, dash.service_time)}</th>
                            </tr></thead>
                            <tbody>
                                {d.queue_figures.iter().map(|f| {
                                    let group = f.group.clone();
                                    let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
                                    view! {
                                        <tr>
                                            <td>{move || match group.as_str() {
                                                "service" => t_string!(i18n, dash.g_service).to_string(),
                                                "counter" => t_string!(i18n, dash.g_counter).to_string(),
                                                _ => t_string!(i18n, dash.g_lane).to_string(),
                                            }}</td>
                                            <td data-key=f.key.clone()>{figure_label(i18n, f)}</td><td>{f.issued}</td><td>{f.served}</td>
                                            <td>{fmt(f.mean_wait_minutes)}</td><td>{fmt(f.mean_service_minutes)}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })}
            }
            .into_any(),
        )
    };
    view! { <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>{body}</Transition> }
}

/// What a queue figure is about, as staff name it: the service's title, the counter's name, or
/// the lane.
fn figure_label(i18n: leptos_i18n::I18nContext<Locale>, f: &crate::api::QueueFigure) -> String {
    match (f.group.as_str(), &f.label) {
        (_, Some(label)) => label.clone(),
        ("lane", None) if f.key == "priority" => t_string!(i18n, dash.lane_priority).to_string(),
        ("lane", None) if f.key == "normal" => t_string!(i18n, dash.lane_normal).to_string(),
        _ => f.key.clone(),
    }
}
