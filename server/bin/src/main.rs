//! `simpul`: parses the command line and hands it to the library, with the UI bundle embedded
//! in this binary (`simpul-assets`).

use std::sync::Arc;

use simpul_server::http::assets::{Asset, Bundle};

/// The bundle embedded at build time.
struct Embedded;

impl Bundle for Embedded {
    fn get(&self, name: &str) -> Option<Asset> {
        simpul_assets::get(name).map(|f| Asset {
            sha256: f.metadata.sha256_hash(),
            mime: f.metadata.mimetype().to_string(),
            data: f.data,
        })
    }
}

fn main() -> std::process::ExitCode {
    use clap::Parser;
    let cli = simpul_server::cli::Cli::parse();
    match simpul_server::cli::run(cli, Arc::new(Embedded)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
