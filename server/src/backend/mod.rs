//! The server's side of the UI contract: [`AppBackend`] implements the app's backend traits,
//! one file per area (session, queue, applications, devices, sync, admin), each method the
//! server function of the same name: decode the form, call the use-case in `office` (or the
//! store for a plain read) in one transaction, answer in wire types.

mod admin;
pub mod applications;
pub mod devices;
mod forms;
mod queue;
pub mod session;
pub mod sync;

use std::sync::Arc;

use simpul_app::error::{ApiError, Refusal};
use simpul_domain::office::BoxRole;
use simpul_domain::zone::Zone;
use simpul_store::StoreError;
use simpul_store::settings;
use simpul_store::tokens::{self, Purpose};
use time::OffsetDateTime;

use crate::state::Core;

/// The backend handed to the UI's server functions.
pub struct AppBackend {
    pub(crate) core: Arc<Core>,
}

impl AppBackend {
    /// Wraps the server core.
    pub fn new(core: Arc<Core>) -> Self {
        AppBackend { core }
    }

    pub(crate) async fn unit(&self) -> Result<Option<(BoxRole, simpul_domain::office::Unit)>, ApiError> {
        self.core.db.call(|c| settings::unit(c)).await.map_err(internal)
    }

    /// The office this box serves and its time zone; refused on a box without one.
    pub(crate) async fn office(&self) -> Result<(simpul_domain::office::Unit, Zone), ApiError> {
        match self.unit().await? {
            Some((BoxRole::Office, unit)) => {
                let zone = unit.zone();
                Ok((unit, zone))
            }
            _ => Err(ApiError::Refused(Refusal::NoOffice)),
        }
    }

    pub(crate) async fn device(&self, purpose: Purpose, token: &str) -> Result<(), ApiError> {
        let token = token.to_string();
        let ok = self.core.db.call(move |c| tokens::valid(c, purpose, &token)).await.map_err(internal)?;
        if ok { Ok(()) } else { Err(ApiError::Refused(Refusal::DeviceToken)) }
    }

    pub(crate) async fn zone(&self) -> Zone {
        match self.unit().await {
            Ok(Some((_, unit))) => unit.zone(),
            _ => Zone::Wib,
        }
    }
}

pub(crate) fn internal(e: StoreError) -> ApiError {
    if e.is_disk_full() {
        tracing::warn!("the disk is full: new work is refused until there is space");
        return ApiError::DiskFull;
    }
    tracing::error!(error = %e, "storage failure");
    ApiError::Internal
}

/// "14:05 WITA".
pub fn local_time(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}:{:02} {}", local.hour(), local.minute(), zone.abbreviation())
}

/// "21-11-2026 14:05 WITA".
pub fn local_datetime(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}-{:02}-{} {}", local.day(), u8::from(local.month()), local.year(), local_time(at, zone))
}
