//! The staff list (read-only for now: accounts are managed with `simpul user`).

use leptos::prelude::*;
use simpul_domain::auth::Permission;

use super::Guard;
use crate::api::staff_list;
use crate::components::errors::ErrorPanel;
use crate::components::lang::role_label;
use crate::i18n::*;

/// "Pengguna".
#[component]
pub fn StaffPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewStaff>
            <StaffTable />
        </Guard>
    }
}

#[component]
fn StaffTable() -> impl IntoView {
    let i18n = use_i18n();
    let staff = Resource::new(|| (), |_| staff_list());
    view! {
        <section class="panel">
            <h1>{t!(i18n, staff.title)}</h1>
            <p class="muted">{t!(i18n, staff.intro)}</p>
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match staff.await {
                        Ok(list) => {
                            view! {
                                <table>
                                    <thead>
                                        <tr>
                                            <th scope="col">{t!(i18n, staff.username)}</th>
                                            <th scope="col">{t!(i18n, staff.name)}</th>
                                            <th scope="col">{t!(i18n, staff.role)}</th>
                                            <th scope="col">{t!(i18n, staff.office)}</th>
                                            <th scope="col">{t!(i18n, staff.status)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|s| {
                                                let active = s.active;
                                                view! {
                                                    <tr>
                                                        <td><code>{s.username}</code></td>
                                                        <td>{s.display_name}</td>
                                                        <td>{role_label(i18n, s.role)}</td>
                                                        <td>{s.office.unwrap_or_else(|| t_string!(i18n, staff.regency).to_string())}</td>
                                                        <td>
                                                            {move || if active { t_string!(i18n, staff.active) } else { t_string!(i18n, staff.disabled) }}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
