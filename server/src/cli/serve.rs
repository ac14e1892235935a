//! `simpul serve`: the appliance itself, with the demo office on an empty database.

use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use time::OffsetDateTime;

use crate::Appliance;
use crate::config::Config;

/// Options of `serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Do not create the demo office and accounts on an empty database (real deployments).
    #[arg(long)]
    pub no_demo: bool,
}

pub(super) fn serve(
    config: Config,
    args: ServeArgs,
    bundle: std::sync::Arc<dyn crate::http::assets::Bundle>,
) -> Result<()> {
    crate::logging::init(&config.log);
    // Taken before the server starts, so that a passphrase is asked in the terminal first.
    let key = super::common::box_key(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listen = config.listen;
        let data_dir = config.data_dir.clone();
        let role = config.role;
        let sync_listen = config.hub.sync_listen;
        let tls_names = config.hub.tls_names.clone();
        let mut appliance = Appliance::open_with_key(config, key).await?.with_bundle(bundle);
        if role == simpul_domain::office::BoxRole::Hub {
            // The CA and TLS certificate exist before the hub says it is listening.
            simpul_installer::pki::HubPki::ensure(&data_dir, &tls_names, OffsetDateTime::now_utc())?;
            let sync = tokio::net::TcpListener::bind(sync_listen)
                .await
                .with_context(|| format!("cannot listen for sync on {sync_listen} (is another program using it?)"))?;
            println!("Simpul hub sync (mutual TLS) is listening on https://{}", sync.local_addr()?);
            appliance = appliance.with_sync_listener(sync);
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (is another program using it?)"))?;
        let base = format!("http://{}", listener.local_addr()?);
        if args.no_demo {
            if appliance.account_count().await? == 0 {
                println!(
                    "No accounts yet. Create the first regency admin with:\n  simpul user add --username admin \
                     --name \"Admin Kabupaten\" --role admin_kabupaten\nand set this box's office with:\n  simpul unit \
                     --code 51.03.02 --name \"Kantor Kecamatan ...\""
                );
            }
        } else if let Some(demo) = appliance.seed_demo_if_empty().await? {
            let file = crate::ops::demo::write_credentials(&data_dir, &demo, &base)
                .with_context(|| format!("writing demo credentials into {}", data_dir.display()))?;
            println!(
                "Created the demo office (Kecamatan Mengwi, {}) with these accounts and devices (also in {}):\n{}",
                crate::ops::demo::OFFICE_CODE,
                file.display(),
                crate::ops::demo::table(&demo, &base)
            );
        }
        println!("Simpul is listening on {base}");
        std::io::stdout().flush().ok();
        appliance.serve(listener, crate::shutdown_signal()).await?;
        Ok(())
    })
}
