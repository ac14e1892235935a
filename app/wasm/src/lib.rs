//! The WASM entry point: hydrates the server-rendered Simpul UI in the browser.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script once the module is loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    simpul_app::hydrate();
}
