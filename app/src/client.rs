//! Small helpers that differ between server and browser: fresh ids for idempotent submissions,
//! printing, and the chime of the waiting-room display.

/// A fresh id for one user action, so that a retry of the same action is recognised.
pub fn fresh_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let c = js_sys::Date::now() as u64;
        format!("{c:x}-{a:08x}{b:08x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{nanos:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Opens the browser's print dialog (the kiosk browser prints silently in kiosk mode).
pub fn print_page() {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().print();
    }
}

/// Two short tones, for a call on the waiting-room display.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn chime() {
    #[cfg(feature = "hydrate")]
    {
        let Ok(ctx) = web_sys::AudioContext::new() else { return };
        let now = ctx.current_time();
        for (i, freq) in [660.0_f32, 880.0].into_iter().enumerate() {
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else { return };
            osc.set_type(web_sys::OscillatorType::Sine);
            osc.frequency().set_value(freq);
            let start = now + i as f64 * 0.35;
            let _ = gain.gain().set_value_at_time(0.0001, start);
            let _ = gain.gain().exponential_ramp_to_value_at_time(0.4, start + 0.03);
            let _ = gain.gain().exponential_ramp_to_value_at_time(0.0001, start + 0.3);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(start);
            let _ = osc.stop_with_when(start + 0.32);
        }
    }
}
