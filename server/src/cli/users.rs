//! `simpul user`: staff accounts (add, password, disable, enable, list, unlock).

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use simpul_domain::auth::{Role, Username, check_new_password};
use simpul_domain::office::BoxRole;
use simpul_domain::wilayah::{RegionCode, RegionLevel};
use simpul_store::audit::Actor;
use simpul_store::{audit, settings, staff, throttle};
use std::io::BufRead;
use time::OffsetDateTime;

use super::common::open_db;
use crate::config::Config;
use crate::office::auth::{hash_password, random_password};

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from stdin with --password-stdin, otherwise one
    /// is generated and printed.
    Add {
        /// Login name (3-32 of a-z 0-9 . _ -).
        #[arg(long)]
        username: String,
        /// Name shown in the UI.
        #[arg(long)]
        name: String,
        /// petugas, verifikator, kepala, admin_kabupaten or installer.
        #[arg(long)]
        role: String,
        /// Office (kecamatan code) the account belongs to; defaults to this box's office for
        /// office roles, none for admin_kabupaten.
        #[arg(long)]
        office: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the account's sessions and lifts a login lock).
    Passwd {
        /// Login name.
        username: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Stop an account from logging in (ends its sessions).
    Disable {
        /// Login name.
        username: String,
    },
    /// Allow a disabled account to log in again.
    Enable {
        /// Login name.
        username: String,
    },
    /// List accounts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn read_password_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on stdin");
    }
    Ok(password)
}

/// The password to set: from stdin (checked against the policy) or a generated one (printed).
pub(super) fn choose_password(username: &Username, from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let password = read_password_line()?;
        check_new_password(username, &password).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
        Ok((password, false))
    } else {
        Ok((random_password(), true))
    }
}

pub(super) fn user(config: &Config, cmd: UserCommand) -> Result<()> {
    let conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        UserCommand::Add { username, name, role, office, password_stdin } => {
            let username = Username::parse(&username).map_err(|e| anyhow::anyhow!("username refused: {e}"))?;
            let role: Role = role.parse()?;
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                bail!("the name must have 1 to 100 characters");
            }
            let office: Option<RegionCode> = match office {
                Some(code) => {
                    let code: RegionCode = code.parse().map_err(|e| anyhow::anyhow!("office: {e}"))?;
                    if code.level() != RegionLevel::Kecamatan {
                        bail!("office: {code} is not a kecamatan code");
                    }
                    Some(code)
                }
                None if role == Role::AdminKabupaten => None,
                None => settings::unit(&conn)?.filter(|(r, _)| *r == BoxRole::Office).map(|(_, u)| u.code),
            };
            let (password, generated) = choose_password(&username, password_stdin)?;
            let hash = hash_password(&password)?;
            let new = staff::NewAccount { username: &username, display_name: name, role, office, password_hash: &hash };
            let id = staff::insert(&conn, &new, now)?;
            audit::record(&conn, now, &Actor::Cli, "user_added", Some(&id), Some(role.code()))?;
            println!("Created {} ({}).", username, role.code());
            if generated {
                println!("Password: {password}\n(shown once; give it to the user in person)");
            }
            Ok(())
        }
        UserCommand::Passwd { username, password_stdin } => {
            let account = staff::by_username(&conn, &username.to_lowercase())?
                .with_context(|| format!("no account named '{username}'"))?;
            let (password, generated) = choose_password(&account.username, password_stdin)?;
            let hash = hash_password(&password)?;
            staff::set_password(&conn, &account.id, &hash, now)?;
            throttle::clear(&conn, &throttle::account_key(account.username.as_str()))?;
            audit::record(&conn, now, &Actor::Cli, "password_set", Some(&account.id), None)?;
            println!("Password of {} changed; its sessions have ended.", account.username);
            if generated {
                println!("Password: {password}");
            }
            Ok(())
        }
        UserCommand::Disable { username } => set_active(&conn, &username, false, now),
        UserCommand::Enable { username } => set_active(&conn, &username, true, now),
        UserCommand::List { json } => {
            let accounts = staff::list(&conn)?;
            if json {
                let rows: Vec<serde_json::Value> = accounts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "id": a.id,
                            "username": a.username.as_str(),
                            "name": a.display_name,
                            "role": a.role.code(),
                            "office": a.office.map(|o| o.to_string()),
                            "active": a.active,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{:<20} {:<16} {:<10} {:<8} name", "username", "role", "office", "active");
                for a in accounts {
                    println!(
                        "{:<20} {:<16} {:<10} {:<8} {}",
                        a.username.as_str(),
                        a.role.code(),
                        a.office.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
                        if a.active { "yes" } else { "no" },
                        a.display_name
                    );
                }
            }
            Ok(())
        }
    }
}

pub(super) fn set_active(
    conn: &simpul_store::Connection,
    username: &str,
    active: bool,
    now: OffsetDateTime,
) -> Result<()> {
    let account = staff::by_username(conn, &username.to_lowercase())?
        .with_context(|| format!("no account named '{username}'"))?;
    staff::set_active(conn, &account.id, active, now)?;
    audit::record(
        conn,
        now,
        &Actor::Cli,
        if active { "user_enabled" } else { "user_disabled" },
        Some(&account.id),
        None,
    )?;
    println!("{} is now {}.", account.username, if active { "enabled" } else { "disabled" });
    Ok(())
}
