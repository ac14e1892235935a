//! The ticket kiosk (touch screen at the entrance, no login, opened with a kiosk token):
//! choose a service, choose the lane, print the ticket, confirm it came out.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{KioskService, TicketView, get_kiosk, kiosk_printed, kiosk_take};
use crate::client::{fresh_id, print_page};
use crate::components::errors::message;
use crate::components::lang::device_text;
use crate::error::ApiError;
use crate::i18n::*;

#[derive(Clone, PartialEq)]
enum Step {
    Service,
    Lane(KioskService),
    Printing(TicketView),
    Done(TicketView),
    /// Not issued; the ticket printer's problem when the box printed it.
    Failed(Option<String>),
}

/// "Ambil nomor antrean".
#[component]
pub fn KioskPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let view_data = Resource::new(token, get_kiosk);
    let step = RwSignal::new(Step::Service);
    let error = RwSignal::new(None::<ApiError>);
    let take = Action::new(move |(service, lane): &(KioskService, String)| {
        let (service, lane, token) = (service.clone(), lane.clone(), token());
        async move { kiosk_take(token, service.id, lane, fresh_id()).await }
    });
    Effect::new(move |_| match take.value().get() {
        // The box printed it on its ticket printer: issued, or void with the reason.
        Some(Ok(ticket)) if ticket.state == "waiting" => step.set(Step::Done(ticket)),
        Some(Ok(ticket)) if ticket.state == "void" => step.set(Step::Failed(ticket.print_error)),
        Some(Ok(ticket)) => {
            step.set(Step::Printing(ticket));
            print_page();
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let confirm = Action::new(move |(id, ok): &(String, bool)| {
        let (id, ok, token) = (id.clone(), *ok, token());
        async move { kiosk_printed(token, id, ok).await }
    });
    Effect::new(move |_| match confirm.value().get() {
        Some(Ok(ticket)) if ticket.state == "waiting" => step.set(Step::Done(ticket)),
        Some(Ok(_)) => step.set(Step::Failed(None)),
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let restart = move |_| {
        error.set(None);
        step.set(Step::Service);
    };

    let screen = move || {
        let data = match view_data.get()? {
            Ok(d) => d,
            Err(e) => return Some(view! { <p class="error" role="alert">{message(i18n, e)}</p> }.into_any()),
        };
        Some(match step.get() {
            Step::Service => view! {
                <h1>{t!(i18n, kiosk.choose_service)}</h1>
                <div class="kiosk-grid">
                    {data
                        .services
                        .into_iter()
                        .map(|s| {
                            let chosen = s.clone();
                            view! {
                                <button class="kiosk-button" on:click=move |_| step.set(Step::Lane(chosen.clone()))>
                                    <span class="letter">{s.letter.clone()}</span>
                                    {s.title.clone()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            }
            .into_any(),
            Step::Lane(service) => {
                let lane_button = move |lane: &'static str, label: AnyView, class: &'static str| {
                    let service = service.clone();
                    view! {
                        <button
                            class=format!("kiosk-button {class}")
                            disabled=move || take.pending().get()
                            on:click=move |_| {
                                take.dispatch((service.clone(), lane.to_string()));
                            }
                        >
                            {label}
                        </button>
                    }
                };
                view! {
                    <h1>{t!(i18n, kiosk.choose_lane)}</h1>
                    <div class="kiosk-grid">
                        {lane_button("normal", t!(i18n, kiosk.lane_normal).into_any(), "")}
                        {lane_button("lansia", t!(i18n, kiosk.lane_elderly).into_any(), "priority")}
                        {lane_button("ibu_hamil_menyusui", t!(i18n, kiosk.lane_mothers).into_any(), "priority")}
                        {lane_button("disabilitas", t!(i18n, kiosk.lane_disability).into_any(), "priority")}
                    </div>
                    <button class="secondary-dark" on:click=restart>{t!(i18n, kiosk.back)}</button>
                }
                .into_any()
            }
            Step::Printing(ticket) => {
                let (yes, no) = (ticket.id.clone(), ticket.id.clone());
                view! {
                    <TicketSlip ticket=ticket.clone() office=data.office.clone() />
                    <div class="no-print">
                        <p class="kiosk-question">{t!(i18n, kiosk.did_it_print)}</p>
                        <button class="kiosk-button" on:click=move |_| { confirm.dispatch((yes.clone(), true)); }>
                            {t!(i18n, kiosk.printed_yes)}
                        </button>
                        <button class="kiosk-button" on:click=move |_| print_page()>{t!(i18n, kiosk.print_again)}</button>
                        <button class="kiosk-button warn" on:click=move |_| { confirm.dispatch((no.clone(), false)); }>
                            {t!(i18n, kiosk.printed_no)}
                        </button>
                    </div>
                }
                .into_any()
            }
            Step::Done(ticket) => view! {
                <div class="kiosk-done" role="status">
                    <p>{t!(i18n, kiosk.your_number)}</p>
                    <p class="big-number" id="kiosk-number">{ticket.number.clone()}</p>
                    <p>{t!(i18n, kiosk.please_wait)}</p>
                    <button class="kiosk-button" on:click=restart>{t!(i18n, kiosk.next_person)}</button>
                </div>
            }
            .into_any(),
            Step::Failed(reason) => view! {
                <div class="kiosk-done" role="alert">
                    {reason.map(|code| view! {
                        <p id="kiosk-printer-problem">
                            {t!(i18n, kiosk.printer_problem)} ": " {device_text(i18n, &code)}
                        </p>
                    })}
                    <p>{t!(i18n, kiosk.not_issued)}</p>
                    <button class="kiosk-button" on:click=restart>{t!(i18n, kiosk.back)}</button>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <section class="kiosk">
            <Transition fallback=move || view! { <p>{t!(i18n, loading)}</p> }>{screen}</Transition>
            {move || error.get().map(|e| view! { <p class="error no-print" role="alert">{message(i18n, e)}</p> })}
        </section>
    }
}

/// The printed ticket: office, service, number, lane, time.
#[component]
fn TicketSlip(ticket: TicketView, office: String) -> impl IntoView {
    let i18n = use_i18n();
    let priority = ticket.lane != "normal";
    view! {
        <div class="ticket-print" id="ticket-slip">
            <p class="ticket-office">{office}</p>
            <p class="ticket-service">{ticket.service.clone()}</p>
            <p class="ticket-number">{ticket.number.clone()}</p>
            {priority.then(|| view! { <p class="ticket-lane">{t!(i18n, kiosk.priority_lane)}</p> })}
            <p class="ticket-time">{t!(i18n, kiosk.taken_at)}" "{ticket.issued.clone()}</p>
        </div>
    }
}
