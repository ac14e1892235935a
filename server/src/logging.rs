//! Tracing set-up: human-readable or JSON lines on stderr, filtered by config or `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Safe to call once per process.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Reports panics: one that automerge's decoder raised inside a site that contains it
/// (`simpul_sync::containing_decoder_panic`) is the refusal of damaged bytes it stands for and
/// is logged as a warning, without a panic message; any other goes to the default hook, which
/// prints `panicked at`, the mark every test harness fails on.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if simpul_sync::containing_decoder_panic() {
            tracing::warn!("damaged document bytes refused (the decoder's panic was contained)");
            return;
        }
        default(info);
    }));
}
