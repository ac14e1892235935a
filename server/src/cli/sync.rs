//! `simpul enroll`, `simpul sync` and `simpul hub`: enrollment with the hub (tokens on the hub,
//! the request on a box), sync now or its state, and the hub's view of the centre's steps.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use simpul_domain::office::BoxRole;
use simpul_domain::wilayah::{RegionCode, RegionLevel};
use simpul_store::audit::Actor;
use simpul_store::{audit, regions, settings};
use time::OffsetDateTime;

use super::common::{open_db, write_transaction};
use crate::config::Config;

/// `hub` subcommands.
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// List the applications waiting on the centre: biometrics recorded (to send) and sent
    /// for identification (waiting for the result).
    Pending,
    /// Mark an application whose biometrics are recorded as sent to the centre for the
    /// uniqueness identification; the office sees it at its next sync.
    Send {
        /// Application number, e.g. 510302-20261121-0007.
        #[arg(long)]
        number: String,
    },
    /// Record the result of the uniqueness identification of an application sent to the
    /// centre; the result syncs back to the office.
    Identify {
        /// Application number, e.g. 510302-20261121-0007.
        #[arg(long)]
        number: String,
        /// `single` (unique: ready to personalise) or `double` (a match: clarification).
        #[arg(long, value_parser = ["single", "double"])]
        result: String,
        /// For a double: the other record's reference.
        #[arg(long, required_if_eq("result", "double"))]
        other: Option<String>,
    },
}

/// `enroll`: redeem a token on a box, or a hub's token and box management.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EnrollArgs {
    /// Hub sync address, e.g. https://hub.badungkab.go.id:3443.
    #[arg(long, requires = "token")]
    pub hub: Option<String>,
    /// The one-time token from the regency admin.
    #[arg(long, requires = "hub")]
    pub token: Option<String>,
    /// Hub side.
    #[command(subcommand)]
    pub command: Option<EnrollCommand>,
}

/// Hub-side enrollment commands.
#[derive(Debug, Subcommand)]
pub enum EnrollCommand {
    /// One-time enrollment tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Refuse every box of an office from now on.
    Revoke {
        /// Office code, e.g. 51.03.02.
        #[arg(long)]
        office: String,
    },
    /// List enrolled boxes.
    List,
}

/// `enroll token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for an office (printed once).
    Create {
        /// Office code, e.g. 51.03.02.
        #[arg(long)]
        office: String,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 72)]
        hours: u32,
    },
}

/// `sync` subcommands.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// List open conflicts (hub).
    Conflicts,
    /// Settle a conflict (hub).
    Resolve {
        /// Conflict number.
        id: i64,
        /// Keep value number N exactly as written (numbered from 1 as `sync conflicts` lists them).
        #[arg(long, conflicts_with_all = ["value", "empty"])]
        keep: Option<usize>,
        /// A corrected value (checked against the field's rules).
        #[arg(long, conflicts_with = "empty")]
        value: Option<String>,
        /// Leave an optional field empty.
        #[arg(long)]
        empty: bool,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Staff id of the admin settling it (recorded in the audit).
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

pub(super) fn hub_pending(config: &Config) -> Result<()> {
    use simpul_domain::application::Status;
    if config.role != BoxRole::Hub {
        bail!("the centre's work list is kept on the hub (role = \"hub\")");
    }
    let conn = open_db(config)?;
    let rows = simpul_store::applications::list(
        &conn,
        &[Status::BiometricsRecorded, Status::SentForIdentification],
        u32::MAX,
    )?;
    if rows.is_empty() {
        println!("Nothing waits on the centre.");
    }
    for row in rows {
        let next = if row.status == Status::BiometricsRecorded { "to send" } else { "waiting for the result" };
        println!("{}  {}  {next}  (last change {})", row.number, row.status.code(), row.updated_at);
    }
    Ok(())
}

pub(super) fn hub_central_step(
    config: &Config,
    number: &str,
    action: simpul_domain::application::Action,
    other: Option<String>,
) -> Result<()> {
    if config.role != BoxRole::Hub {
        bail!("central steps are recorded on the hub (role = \"hub\")");
    }
    let mut conn = open_db(config)?;
    let (_, unit) = settings::unit(&conn)?.context("the hub's regency is not set (simpul unit ...)")?;
    let id = simpul_store::applications::id_by_number(&conn, number)?
        .with_context(|| format!("no application {number} has reached this hub"))?;
    let who = crate::office::applications::Who {
        staff: "hub".into(),
        office: unit.code,
        at: OffsetDateTime::now_utc(),
        zone: unit.zone(),
    };
    let details = crate::office::applications::ActDetails {
        reasons: Vec::new(),
        note: None,
        other_reference: other,
        handover: None,
    };
    let known = regions::all_codes(&conn)?;
    let tx = write_transaction(&mut conn)?;
    let status = crate::office::applications::act(&tx, &who, &id, action, &details, &known)
        .map_err(|e| anyhow::anyhow!("{number}: {e}"))?;
    tx.commit()?;
    println!("{number}: {}; the office receives it at its next sync.", status.code());
    Ok(())
}

pub(super) fn enroll_command(config: &Config, args: EnrollArgs) -> Result<()> {
    use simpul_store::enroll;
    let now = OffsetDateTime::now_utc();
    match (args.command, args.hub, args.token) {
        (None, Some(hub), Some(token)) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let conn = open_db(config)?;
            let receipt_key = crate::office::receipts::public_key(&conn)?;
            let answer = runtime.block_on(simpul_installer::enrollment::enroll(
                &conn,
                &config.data_dir,
                &hub,
                &token,
                receipt_key,
            ))?;
            println!("Enrolled as {} ({}). The box syncs with {hub} when it runs.", answer.office_name, answer.office);
            Ok(())
        }
        (Some(EnrollCommand::Token(TokenCommand::Create { office, hours })), _, _) => {
            let code: RegionCode = office.parse().map_err(|e| anyhow::anyhow!("office code '{office}': {e}"))?;
            if code.level() != RegionLevel::Kecamatan {
                bail!("office code '{office}' is not a kecamatan code (like 51.03.02)");
            }
            if config.role != BoxRole::Hub {
                bail!("tokens are created on the hub (role = \"hub\")");
            }
            let conn = open_db(config)?;
            if let Some((_, hub)) = simpul_store::settings::unit(&conn)?
                && !code.is_within(&hub.code)
            {
                bail!("office {code} is not in this hub's regency ({})", hub.code);
            }
            let pki = simpul_installer::pki::HubPki::ensure(&config.data_dir, &config.hub.tls_names, now)?;
            let secret = crate::office::auth::random_token();
            let token = simpul_installer::enrollment::make_token(&secret, &pki.ca_pem)?;
            let expires = now + time::Duration::hours(i64::from(hours.clamp(1, 24 * 30)));
            enroll::create_token(&conn, &token, &code.to_string(), now, expires)?;
            audit::record(&conn, now, &Actor::Cli, "enrollment_token_created", Some(&code.to_string()), None)?;
            println!("Enrollment token for office {code} (valid {hours} h, works once):\n{token}");
            Ok(())
        }
        (Some(EnrollCommand::Revoke { office }), _, _) => {
            let conn = open_db(config)?;
            let n = enroll::revoke_office(&conn, &office, now)?;
            audit::record(&conn, now, &Actor::Cli, "box_revoked", Some(&office), None)?;
            println!("Revoked {n} box(es) of office {office}.");
            Ok(())
        }
        (Some(EnrollCommand::List), _, _) => {
            let conn = open_db(config)?;
            for b in enroll::list(&conn)? {
                println!(
                    "{}  {}  enrolled {}  last seen {}{}",
                    b.office,
                    &b.fingerprint[..16.min(b.fingerprint.len())],
                    b.enrolled_at,
                    b.last_seen.as_deref().unwrap_or("never"),
                    if b.revoked_at.is_some() { "  REVOKED" } else { "" }
                );
            }
            Ok(())
        }
        _ => bail!(
            "use `simpul enroll --hub URL --token T` on a box, or `simpul enroll token create --office CODE` on a hub"
        ),
    }
}

pub(super) fn sync_command(config: &Config, cmd: SyncCommand) -> Result<()> {
    let mut conn = open_db(config)?;
    match cmd {
        SyncCommand::Conflicts => {
            for c in simpul_store::conflicts::list_open(&conn, 500)? {
                let values: Vec<String> =
                    c.candidates.iter().enumerate().map(|(i, v)| format!("{}) {:?}", i + 1, v.value)).collect();
                println!("#{}  {}  {}  {}  {}", c.id, c.office, c.doc_id, c.field, values.join(" | "));
            }
            Ok(())
        }
        SyncCommand::Resolve { id, keep, value, empty, reason, by } => {
            use crate::sync::exchange::Decision;
            let decision = match (keep, value) {
                (Some(0), _) => bail!("values are numbered from 1"),
                (Some(n), _) => Decision::Keep(n - 1),
                (None, Some(v)) if !v.trim().is_empty() => Decision::Corrected(Some(v.trim().to_string())),
                (None, _) if empty => Decision::Corrected(None),
                (None, _) => bail!("say what to keep: --keep N, --value V or --empty"),
            };
            crate::sync::exchange::resolve(&mut conn, id, &decision, None, &reason, &by, OffsetDateTime::now_utc())?;
            println!("Conflict #{id} settled.");
            Ok(())
        }
    }
}
