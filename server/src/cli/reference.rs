//! Reference data: `simpul wilayah`, `simpul catalog`, `simpul holidays` and `simpul unit`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use simpul_domain::catalog::{ImportWarning, import_standard};
use simpul_domain::office::Unit;
use simpul_domain::wilayah::{RegionCode, RegionDirectory, RegionLevel, parse_region_list};
use simpul_store::audit::Actor;
use simpul_store::{audit, catalog, regions, settings};
use time::OffsetDateTime;

use super::common::{open_db, write_transaction};
use crate::config::Config;

/// `holidays` subcommands.
#[derive(Debug, Subcommand)]
pub enum HolidaysCommand {
    /// Import a list `tanggal,nama,jenis` (libur_nasional, cuti_bersama, libur_daerah).
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `wilayah` subcommands.
#[derive(Debug, Subcommand)]
pub enum WilayahCommand {
    /// Import a Kemendagri list in the `kode,nama` CSV format.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `catalog` subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import published service standards; all files or none.
    Import {
        /// Standard files (text or Markdown).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the catalog.
    List {
        /// Print every field as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `unit`.
#[derive(Debug, Args)]
pub struct UnitArgs {
    /// Kecamatan code for an office box (e.g. 51.03.02), regency code for a hub (e.g. 51.03).
    #[arg(long)]
    pub code: String,
    /// Display name, e.g. "Kantor Kecamatan Mengwi".
    #[arg(long)]
    pub name: String,
}

pub(super) fn holidays_import(config: &Config, file: &Path) -> Result<()> {
    let bytes = read_bounded(file, 1024 * 1024)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let mut conn = open_db(config)?;
    let tx = write_transaction(&mut conn)?;
    let n = simpul_store::holidays::import(&tx, &text)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    audit::record(&tx, OffsetDateTime::now_utc(), &Actor::Cli, "holidays_imported", None, Some(&format!("{n} days")))?;
    let open = crate::office::applications::recompute_due(&tx)?;
    tx.commit()?;
    println!("Imported {n} holidays; due times of {open} open applications computed again.");
    Ok(())
}

/// Largest region list read (the national list with villages is about 4 MB).
pub(super) const MAX_REGION_FILE: u64 = 32 * 1024 * 1024;

pub(super) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    if meta.len() > limit {
        bail!("{} has {} bytes; at most {limit} are accepted", path.display(), meta.len());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

pub(super) fn wilayah_import(config: &Config, file: &Path) -> Result<()> {
    let bytes = read_bounded(file, MAX_REGION_FILE)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let mut conn = open_db(config)?;
    let known = regions::all_codes(&conn)?;
    let list = match parse_region_list(&text, &known as &dyn RegionDirectory) {
        Ok(list) => list,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            bail!("{} has {} problem(s); nothing was imported", file.display(), errors.len());
        }
    };
    let now = OffsetDateTime::now_utc();
    let tx = write_transaction(&mut conn)?;
    let summary = regions::import(&tx, &list, now)?;
    audit::record(&tx, now, &Actor::Cli, "regions_imported", None, Some(&format!("{} codes", list.len())))?;
    tx.commit()?;
    let levels: Vec<String> = summary
        .by_level
        .iter()
        .map(|(level, n)| {
            let name = match level {
                RegionLevel::Province => "provinces",
                RegionLevel::Regency => "regencies/cities",
                RegionLevel::Kecamatan => "kecamatan",
                RegionLevel::Village => "villages",
            };
            format!("{n} {name}")
        })
        .collect();
    println!(
        "Imported {} region codes ({}): {} new, {} renamed, {} unchanged, {} retired.",
        list.len(),
        levels.join(", "),
        summary.added,
        summary.renamed,
        summary.unchanged,
        summary.retired
    );
    Ok(())
}

pub(super) fn catalog_import(config: &Config, files: &[PathBuf]) -> Result<()> {
    let mut parsed = Vec::new();
    let mut failures = 0;
    for file in files {
        let outcome = read_bounded(file, simpul_domain::catalog::MAX_STANDARD_BYTES as u64)
            .and_then(|bytes| import_standard(&bytes).map_err(anyhow::Error::from));
        match outcome {
            Ok(imported) => parsed.push((file, imported)),
            Err(e) => {
                failures += 1;
                eprintln!("{}: {e}", file.display());
            }
        }
    }
    if failures > 0 {
        bail!("{failures} of {} file(s) could not be read; nothing was imported", files.len());
    }
    let mut conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    let tx = write_transaction(&mut conn)?;
    let mut report = Vec::new();
    for (file, imported) in &parsed {
        let source = file.file_name().map(|n| n.to_string_lossy().to_string());
        let (id, outcome) = catalog::upsert(&tx, &imported.standard, source.as_deref(), now)?;
        audit::record(&tx, now, &Actor::Cli, "catalog_imported", Some(&id), source.as_deref())?;
        report.push((file, id, outcome, &imported.standard, &imported.warnings));
    }
    // A completion time may have changed: open applications get their due times again.
    crate::office::applications::recompute_due(&tx)?;
    tx.commit()?;
    for (file, id, outcome, standard, warnings) in report {
        let verb = match outcome {
            catalog::Upserted::Created => "imported",
            catalog::Upserted::Updated => "updated",
        };
        println!("{}: {verb} \"{}\" ({}) as {id}", file.display(), standard.title, standard.kind.code());
        for w in warnings.iter() {
            print_warning(file, w);
        }
    }
    Ok(())
}

pub(super) fn print_warning(file: &Path, w: &ImportWarning) {
    println!("  note: {}: {w}", file.display());
}

pub(super) fn catalog_list(config: &Config, json: bool) -> Result<()> {
    let conn = open_db(config)?;
    let entries = catalog::list(&conn)?;
    if json {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let mut value = serde_json::to_value(&e.standard).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert("id".into(), e.id.clone().into());
                    map.insert("source".into(), e.source.clone().into());
                    map.insert("imported_at".into(), simpul_store::stamp(e.imported_at).into());
                }
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for e in entries {
            let completion = e.standard.completion.as_ref().map_or("-".to_string(), |c| c.time.to_string());
            println!("{}  {:<22} {:<16} {}", e.id, e.standard.kind.code(), completion, e.standard.title);
        }
    }
    Ok(())
}

pub(super) fn set_unit(config: &Config, args: &UnitArgs) -> Result<()> {
    let code: RegionCode = args.code.parse().map_err(|e| anyhow::anyhow!("code: {e}"))?;
    let unit = Unit::for_role(config.role, code, args.name.trim().to_string())?;
    if unit.name.is_empty() {
        bail!("the name must not be empty");
    }
    let conn = open_db(config)?;
    let known: HashSet<RegionCode> = regions::all_codes(&conn)?;
    if !known.contains(&code) {
        eprintln!("note: {code} is not in the imported region list (import it with `simpul wilayah import`)");
    }
    let now = OffsetDateTime::now_utc();
    settings::set_unit(&conn, config.role, &unit)?;
    audit::record(&conn, now, &Actor::Cli, "unit_set", Some(&code.to_string()), Some(&unit.name))?;
    println!("This box now serves {} ({}) as {}.", unit.name, unit.code, config.role.code());
    Ok(())
}
