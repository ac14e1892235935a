//! The pages that show how the box is set up: the catalog, the staff accounts and the system
//! page.

use simpul_app::backend::{AdminBackend, SessionBackend};
use simpul_app::error::ApiError;
use simpul_app::wire::{ServiceSummary, ServiceView, StaffView, SystemView, UnitView};
use simpul_store::{catalog, staff};

use crate::backend::{AppBackend, internal, local_datetime};

#[async_trait::async_trait]
impl AdminBackend for AppBackend {
    async fn catalog_list(&self) -> Result<Vec<ServiceSummary>, ApiError> {
        let entries = self.core.db.call(|c| catalog::list(c)).await.map_err(internal)?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let s = e.standard;
                let issuer = match &s.issuer.government {
                    Some(g) => format!("{g} / {}", s.issuer.agency),
                    None => s.issuer.agency.clone(),
                };
                ServiceSummary {
                    id: e.id,
                    title: s.title,
                    kind: s.kind,
                    completion: s.completion.map(|c| c.time),
                    fee: s.fee.kind,
                    issuer,
                }
            })
            .collect())
    }

    async fn catalog_detail(&self, id: uuid::Uuid) -> Result<ServiceView, ApiError> {
        let id = id.to_string();
        let entry = self.core.db.call(move |c| catalog::get(c, &id)).await.map_err(internal)?;
        let entry = entry.ok_or(ApiError::NotFound)?;
        let zone = self.zone().await;
        Ok(ServiceView {
            id: entry.id,
            standard: entry.standard,
            source: entry.source,
            imported_at: local_datetime(entry.imported_at, zone),
        })
    }

    async fn staff_list(&self) -> Result<Vec<StaffView>, ApiError> {
        let accounts = self.core.db.call(|c| staff::list(c)).await.map_err(internal)?;
        Ok(accounts
            .into_iter()
            .map(|a| StaffView {
                username: a.username.to_string(),
                display_name: a.display_name,
                role: a.role,
                office: a.office.map(|o| o.to_string()),
                active: a.active,
            })
            .collect())
    }

    async fn system_info(&self) -> Result<SystemView, ApiError> {
        let schema = self.core.db.call(|c| simpul_store::db::schema_version(c)).await.map_err(internal)?;
        let database_bytes = std::fs::metadata(self.core.db.path()).map(|m| m.len()).unwrap_or(0);
        let unit = self.unit().await?;
        let zone = self.zone().await;
        Ok(SystemView {
            version: env!("CARGO_PKG_VERSION").to_string(),
            box_role: self.core.config.role,
            unit: unit.map(|(_, u)| UnitView { code: u.code.to_string(), name: u.name }),
            data_dir: self.core.config.data_dir.display().to_string(),
            database_bytes,
            schema_version: schema,
            hub_url: match &self.core.config.hub.url {
                Some(url) => Some(url.clone()),
                // An enrolled box keeps the hub's address from its enrollment.
                None => self
                    .core
                    .db
                    .call(|c| simpul_store::settings::get(c, simpul_store::settings::HUB_URL))
                    .await
                    .map_err(internal)?,
            },
            link: self.hub_link().await,
            zone: zone.abbreviation().to_string(),
        })
    }
}
