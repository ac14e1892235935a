//! The waiting-room display: now serving per counter and the last calls, in letters readable
//! from five metres, updated live from the server's event stream with a chime on each call.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{DisplayView, get_display};
use crate::components::errors::message;
use crate::i18n::*;

/// "Layar antrean".
#[component]
pub fn DisplayPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let initial = Resource::new(token, get_display);
    let live = RwSignal::new(None::<DisplayView>);
    let connected = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let url = format!("/api/layar/stream?token={}", js_sys::encode_uri_component(&token()));
        let Ok(source) = web_sys::EventSource::new(&url) else { return };
        let last_seq = StoredValue::new(None::<i64>);
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else { return };
            let Ok(view) = serde_json::from_str::<DisplayView>(&text) else { return };
            if last_seq.get_value().is_some_and(|seq| view.call_seq > seq) {
                crate::client::chime();
            }
            last_seq.set_value(Some(view.call_seq));
            connected.set(true);
            live.set(Some(view));
        });
        let _ = source.add_event_listener_with_callback("antrian", on_message.as_ref().unchecked_ref());
        on_message.forget();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| connected.set(false));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        // EventSource reconnects by itself after a drop; close it when the page goes.
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });

    let board = move || {
        let view = match live.get() {
            Some(v) => v,
            None => match initial.get()? {
                Ok(v) => v,
                Err(e) => return Some(view! { <p class="error" role="alert">{message(i18n, e)}</p> }.into_any()),
            },
        };
        Some(
            view! {
                <header class="display-head">
                    <h1>{view.office.clone()}</h1>
                    <span class="display-live" data-connected=move || connected.get().to_string()>
                        {move || if connected.get() { "●" } else { "○" }}
                    </span>
                </header>
                <div class="display-grid">
                    {view
                        .serving
                        .iter()
                        .map(|(counter, number)| view! {
                            <div class="display-counter">
                                <p class="display-counter-name">{counter.clone()}</p>
                                <p class="display-number">{number.clone().unwrap_or_else(|| "—".into())}</p>
                            </div>
                        })
                        .collect_view()}
                </div>
                <div class="display-last">
                    <h2>{t!(i18n, display.last_called)}</h2>
                    <ol id="last-called">
                        {view
                            .last_called
                            .iter()
                            .map(|(number, counter)| view! { <li><strong>{number.clone()}</strong>" → "{counter.clone()}</li> })
                            .collect_view()}
                    </ol>
                    <p>{t!(i18n, display.waiting, normal = view.waiting.0, priority = view.waiting.1)}</p>
                </div>
            }
            .into_any(),
        )
    };
    view! { <section class="display"><Transition>{board}</Transition></section> }
}
