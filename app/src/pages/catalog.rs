//! The service catalog: a list with a search box that filters as you type (in the browser, no
//! round trip), and one page per service standard.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use simpul_domain::auth::Permission;
use simpul_domain::catalog::{Completion, FeeKind};
use simpul_domain::text::fold;

use super::Guard;
use crate::api::{ServiceSummary, ServiceView, catalog_detail, catalog_list};
use crate::components::errors::ErrorPanel;
use crate::components::lang::{completion_label, kind_label};
use crate::i18n::*;
use leptos_i18n::I18nContext;

/// "Katalog Layanan".
#[component]
pub fn CatalogPage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewCatalog>
            <CatalogList />
        </Guard>
    }
}

fn fee_label(i18n: I18nContext<Locale>, fee: FeeKind, text: Option<String>) -> String {
    match fee {
        FeeKind::Free => t_string!(i18n, catalog.free).to_string(),
        FeeKind::Rupiah(n) => format!("Rp {}", group_thousands(n)),
        FeeKind::AsStated => text.unwrap_or_default(),
        FeeKind::Unstated => t_string!(i18n, catalog.none_stated).to_string(),
    }
}

/// 15000 -> "15.000" (Indonesian grouping).
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[component]
fn CatalogList() -> impl IntoView {
    let i18n = use_i18n();
    let services = Resource::new(|| (), |_| catalog_list());
    let filter = RwSignal::new(String::new());
    view! {
        <section class="panel">
            <h1>{t!(i18n, catalog.title)}</h1>
            <p class="muted">{t!(i18n, catalog.intro)}</p>
            <label for="catalog-filter">{t!(i18n, catalog.filter)}</label>
            <input
                id="catalog-filter"
                type="search"
                placeholder=move || t_string!(i18n, catalog.filter_hint)
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
                autocomplete="off"
            />
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match services.await {
                        Ok(list) => view! { <ServiceTable list filter /> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ServiceTable(list: Vec<ServiceSummary>, filter: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let total = list.len();
    let list = StoredValue::new(list);
    let shown = Memo::new(move |_| {
        let words: Vec<String> = fold(&filter.get()).split(' ').filter(|w| !w.is_empty()).map(String::from).collect();
        list.read_value()
            .iter()
            .filter(|s| {
                let hay = fold(&format!("{} {}", s.title, s.issuer));
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .cloned()
            .collect::<Vec<_>>()
    });
    if total == 0 {
        return view! { <p class="notice">{t!(i18n, catalog.empty)}</p> }.into_any();
    }
    view! {
        <p class="muted" id="catalog-count" aria-live="polite">
            {t!(i18n, catalog.count, shown = move || shown.read().len(), total)}
        </p>
        <Show when=move || shown.read().is_empty()>
            <p class="notice">{t!(i18n, catalog.no_match)}</p>
        </Show>
        <table class="catalog">
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, catalog.service)}</th>
                    <th scope="col">{t!(i18n, catalog.kind)}</th>
                    <th scope="col">{t!(i18n, catalog.completion)}</th>
                    <th scope="col">{t!(i18n, catalog.fee)}</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || shown.get() key=|s| s.id.clone() let:service>
                    <tr>
                        <td>
                            <A href=format!("/katalog/{}", service.id)>{service.title.clone()}</A>
                            <br />
                            <small class="muted">{service.issuer.clone()}</small>
                        </td>
                        <td>{kind_label(i18n, service.kind)}</td>
                        <td>
                            {move || match service.completion {
                                Some(t) => completion_label(i18n.get_locale(), t),
                                None => t_string!(i18n, catalog.none_stated).to_string(),
                            }}
                        </td>
                        <td>{move || fee_label(i18n, service.fee, None)}</td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

/// One service standard in full.
#[component]
pub fn ServicePage() -> impl IntoView {
    view! {
        <Guard permission=Permission::ViewCatalog>
            <ServiceDetail />
        </Guard>
    }
}

#[component]
fn ServiceDetail() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let service = Resource::new(move || params.read().get("id").unwrap_or_default(), catalog_detail);
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Ok(view) => view! { <Standard view /> }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Standard(view: ServiceView) -> impl IntoView {
    let i18n = use_i18n();
    let s = view.standard;
    let issuer = [s.issuer.government.clone(), Some(s.issuer.agency.clone())]
        .into_iter()
        .flatten()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" — ");
    let completion = s.completion.clone();
    let fee = s.fee.clone();
    let requirements = s.requirements.clone();
    let procedure = s.procedure.clone();
    let notes = s.procedure_notes.clone();
    let products = s.products.clone();
    let complaints = s.complaints.clone();
    let others = s.other_sections.clone();
    view! {
        <article class="panel standard">
            <p>
                <A href="/katalog">"← "{t!(i18n, catalog.back)}</A>
            </p>
            <h1>{s.title.clone()}</h1>
            <dl class="facts">
                <dt>{t!(i18n, catalog.kind)}</dt>
                <dd>{kind_label(i18n, s.kind)}</dd>
                <dt>{t!(i18n, catalog.issuer)}</dt>
                <dd>{issuer}</dd>
                <dt>{t!(i18n, catalog.sk)}</dt>
                <dd>{s.sk_number.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>{t!(i18n, catalog.completion)}</dt>
                <dd>{completion_view(i18n, completion)}</dd>
                <dt>{t!(i18n, catalog.fee)}</dt>
                <dd>{move || fee_label(i18n, fee.kind, Some(fee.text.clone()))}</dd>
                <dt>{t!(i18n, catalog.source)}</dt>
                <dd>{view.source.unwrap_or_default()}" · "{view.imported_at}</dd>
            </dl>
            <h2>{t!(i18n, catalog.requirements)}</h2>
            <ol class="requirements">
                {requirements
                    .into_iter()
                    .map(|r| view! { <li>{r.text}{sublist(r.details)}</li> })
                    .collect_view()}
            </ol>
            <h2>{t!(i18n, catalog.procedure)}</h2>
            <ol class="procedure">
                {procedure
                    .into_iter()
                    .map(|step| view! { <li>{step.text}{sublist(step.sub_steps)}</li> })
                    .collect_view()}
            </ol>
            {(!notes.is_empty())
                .then(|| {
                    view! {
                        <h3>{t!(i18n, catalog.procedure_notes)}</h3>
                        {notes.into_iter().map(|n| view! { <p>{n}</p> }).collect_view()}
                    }
                })}
            <h2>{t!(i18n, catalog.products)}</h2>
            <ul>{products.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            <h2>{t!(i18n, catalog.complaints)}</h2>
            {s.complaints_intro.clone().map(|t| view! { <p>{t}</p> })}
            <ul class="complaints">
                {complaints
                    .into_iter()
                    .map(|c| {
                        view! {
                            <li>
                                {c.group.map(|g| view! { <small class="muted">{g}": "</small> })}
                                {c.text}
                                {sublist(c.details)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {(!others.is_empty())
                .then(|| {
                    view! {
                        <h2>{t!(i18n, catalog.other_sections)}</h2>
                        {others
                            .into_iter()
                            .map(|(h, text)| view! { <h3>{h}</h3><p class="pre">{text}</p> })
                            .collect_view()}
                    }
                })}
        </article>
    }
}

fn completion_view(i18n: I18nContext<Locale>, completion: Option<Completion>) -> impl IntoView {
    move || match completion.clone() {
        Some(c) => {
            let label = completion_label(i18n.get_locale(), c.time);
            view! {
                <span>
                    <strong>{label}</strong>
                    {c.condition.map(|cond| view! { <br /><small class="muted">{t!(i18n, catalog.condition)}": "{cond}</small> })}
                </span>
            }
            .into_any()
        }
        None => t_string!(i18n, catalog.none_stated).into_any(),
    }
}

fn sublist(items: Vec<String>) -> impl IntoView {
    (!items.is_empty())
        .then(|| view! { <ol class="sub">{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ol> })
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::group_thousands(0), "0");
        assert_eq!(super::group_thousands(15000), "15.000");
        assert_eq!(super::group_thousands(1234567), "1.234.567");
    }
}
