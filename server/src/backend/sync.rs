//! The sync part of the app's backend: the box's sync status and "sync now", the hub's
//! conflict inbox and settling a case.

use simpul_app::error::ApiError;
use simpul_app::wire::{BoxView, CandidateView, ConflictView, SyncView, UserView};
use simpul_sync::records::{ApplicationDoc, KEEP_ONLY_FIELDS};
use time::OffsetDateTime;

use crate::backend::{AppBackend, internal, local_datetime};
use crate::sync::exchange::{Decision, ResolveError};
use crate::sync::sameperson;
use simpul_app::backend::SyncBackend;
use simpul_store::{conflicts, documents, staff};

impl AppBackend {
    fn hub_only(&self) -> Result<(), ApiError> {
        if self.core.config.role != simpul_domain::office::BoxRole::Hub {
            return Err(ApiError::Unavailable("hanya di hub kabupaten / only on the regency hub".into()));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SyncBackend for AppBackend {
    async fn sync_status(&self) -> Result<SyncView, ApiError> {
        let zone = self.zone().await;
        let s = self.core.sync.status();
        Ok(SyncView {
            enrolled: s.enrolled,
            running: s.running,
            exchanges: s.exchanges,
            bytes: s.bytes,
            planned: s.planned,
            waiting_records: s.waiting_records,
            waiting_bytes: s.waiting_bytes,
            waiting_files: s.waiting_blobs,
            waiting_file_bytes: s.waiting_blob_bytes,
            last_success: s.last_success.map(|t| local_datetime(t, zone)),
            last_error: s.last_error,
            last_error_code: s.last_error_code.map(str::to_string),
            sessions: s.sessions,
            certificate_expires: s.certificate_expires.map(|t| local_datetime(t, zone)),
            certificate_renew: s.certificate_expires.is_some_and(|t| {
                t - OffsetDateTime::now_utc() < time::Duration::days(simpul_installer::pki::RENEW_WARNING_DAYS)
            }),
            slow_link_step: self.core.sync.step_bytes(),
        })
    }

    async fn sync_now(&self) -> Result<(), ApiError> {
        if !self.core.sync.status().enrolled {
            return Err(ApiError::Unavailable("kotak ini belum terdaftar pada hub / this box is not enrolled".into()));
        }
        self.core.sync.sync_now();
        Ok(())
    }

    async fn conflicts(&self) -> Result<Vec<ConflictView>, ApiError> {
        let zone = self.zone().await;
        let own_actor =
            self.core.db.call(|c| documents::actor(c).map(|a| a.to_hex_string())).await.map_err(internal)?;
        self.core
            .db
            .call(move |conn| {
                let names: std::collections::HashMap<String, String> =
                    staff::list(conn)?.into_iter().map(|a| (a.id, a.display_name)).collect();
                let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
                let mut out = Vec::new();
                for case in conflicts::list_open(conn, 200)? {
                    let doc: Option<ApplicationDoc> = documents::load(conn, &case.doc_id)?;
                    let at = |secs: i64| {
                        OffsetDateTime::from_unix_timestamp(secs)
                            .map_or_else(|_| "—".into(), |t| local_datetime(t, zone))
                    };
                    let candidates = case
                        .candidates
                        .iter()
                        .map(|v| CandidateView {
                            value: v.value.clone(),
                            // Only the owning office's box and the hub write a record.
                            source: if case.field == sameperson::FIELD {
                                v.actor.clone()
                            } else if v.actor == own_actor {
                                "hub".into()
                            } else {
                                case.office.clone()
                            },
                            by: v.by.as_deref().map(name).unwrap_or_default(),
                            at: at(v.time),
                        })
                        .collect();
                    let history = doc
                        .as_ref()
                        .map(|d| {
                            d.steps
                                .iter()
                                .map(|s| {
                                    let when = crate::backend::applications::parse_local(&s.at)
                                        .map_or_else(|| s.at.clone(), |t| local_datetime(t, zone));
                                    format!("{when} · {} · {} → {} ({})", name(&s.by), s.from, s.to, s.office)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let revision = case.revision();
                    out.push(ConflictView {
                        id: case.id,
                        application: case.doc_id.clone(),
                        number: doc.map(|d| d.number).unwrap_or_default(),
                        office: case.office,
                        revision,
                        correctable: !KEEP_ONLY_FIELDS.contains(&case.field.as_str()),
                        field: case.field,
                        candidates,
                        detected_at: simpul_store::parse_stamp(&case.detected_at)
                            .map_or(case.detected_at.clone(), |t| local_datetime(t, zone)),
                        history,
                    });
                }
                Ok(out)
            })
            .await
            .map_err(internal)
    }

    async fn resolve_conflict(
        &self,
        user: &UserView,
        id: i64,
        keep: Option<u32>,
        corrected: &str,
        seen: &str,
        reason: &str,
    ) -> Result<(), ApiError> {
        if corrected.trim().chars().count() > 200 {
            return Err(ApiError::BadRequest("nilai terlalu panjang / value too long".into()));
        }
        let decision = match keep {
            Some(i) => Decision::Keep(i as usize),
            None => Decision::Corrected(Some(corrected.trim().to_string()).filter(|v| !v.is_empty())),
        };
        let (admin, reason, seen) = (user.id.clone(), reason.to_string(), seen.to_string());
        let result = self
            .core
            .db
            .call(move |conn| {
                Ok(crate::sync::exchange::resolve(
                    conn,
                    id,
                    &decision,
                    Some(&seen),
                    &reason,
                    &admin,
                    OffsetDateTime::now_utc(),
                ))
            })
            .await
            .map_err(internal)?;
        match result {
            Ok(()) => Ok(()),
            Err(ResolveError::NotFound) => Err(ApiError::NotFound),
            Err(ResolveError::NoReason) => {
                Err(ApiError::BadRequest("alasan wajib diisi (minimal 5 huruf) / a reason is required".into()))
            }
            Err(ResolveError::Changed) => Err(ApiError::BadRequest(
                "nilai berubah sejak kasus ini dibuka; muat ulang halaman / the values changed: reload the page".into(),
            )),
            Err(ResolveError::Refused(why)) => {
                Err(ApiError::BadRequest(format!("nilai ini tidak dapat disimpan / this value cannot be kept: {why}")))
            }
            Err(ResolveError::Store(e)) => Err(internal(e)),
        }
    }

    async fn enrolled_boxes(&self) -> Result<Vec<BoxView>, ApiError> {
        self.hub_only()?;
        let zone = self.zone().await;
        let local =
            move |s: &str| simpul_store::parse_stamp(s).map_or_else(|| s.to_string(), |t| local_datetime(t, zone));
        let boxes = self.core.db.call(|c| simpul_store::enroll::list(c)).await.map_err(internal)?;
        Ok(boxes
            .into_iter()
            .map(|b| BoxView {
                office: b.office,
                fingerprint: b.fingerprint.chars().take(16).collect(),
                enrolled_at: local(&b.enrolled_at),
                last_seen: b.last_seen.as_deref().map(local),
                revoked: b.revoked_at.is_some(),
            })
            .collect())
    }

    async fn create_enroll_token(&self, user: &UserView, office: &str, hours: u32) -> Result<String, ApiError> {
        self.hub_only()?;
        let code: simpul_domain::wilayah::RegionCode = office.trim().parse().map_err(|_| {
            ApiError::BadRequest("kode kecamatan tidak sah (contoh 51.03.02) / invalid office code".into())
        })?;
        if code.level() != simpul_domain::wilayah::RegionLevel::Kecamatan {
            return Err(ApiError::BadRequest("bukan kode kecamatan (contoh 51.03.02) / not a kecamatan code".into()));
        }
        if let Ok(Some((_, hub))) = self.unit().await
            && !code.is_within(&hub.code)
        {
            return Err(ApiError::BadRequest(format!(
                "kecamatan {code} bukan bagian dari wilayah hub ini ({}) / not in this hub's regency",
                hub.code
            )));
        }
        let now = OffsetDateTime::now_utc();
        let pki =
            simpul_installer::pki::HubPki::ensure(&self.core.config.data_dir, &self.core.config.hub.tls_names, now)
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let token = simpul_installer::enrollment::make_token(&crate::office::auth::random_token(), &pki.ca_pem)
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let (stored, admin) = (token.clone(), user.id.clone());
        let expires = now + time::Duration::hours(i64::from(hours.clamp(1, 24 * 30)));
        self.core
            .db
            .call(move |c| {
                simpul_store::enroll::create_token(c, &stored, &code.to_string(), now, expires)?;
                simpul_store::audit::record(
                    c,
                    now,
                    &simpul_store::audit::Actor::Staff(admin),
                    "enrollment_token_created",
                    Some(&code.to_string()),
                    None,
                )
            })
            .await
            .map_err(internal)?;
        Ok(token)
    }

    /// Revokes one box (a box lost or stolen; the office's other boxes go on).
    async fn revoke_box(&self, user: &UserView, office: &str, fingerprint: &str) -> Result<(), ApiError> {
        self.hub_only()?;
        let (office, admin, now) = (office.trim().to_string(), user.id.clone(), OffsetDateTime::now_utc());
        let print = fingerprint.trim().to_string();
        let n = self
            .core
            .db
            .call(move |c| {
                let n = simpul_store::enroll::revoke_box(c, &office, &print, now)?;
                if n > 0 {
                    simpul_store::audit::record(
                        c,
                        now,
                        &simpul_store::audit::Actor::Staff(admin),
                        "box_revoked",
                        Some(&office),
                        Some(&print),
                    )?;
                }
                Ok(n)
            })
            .await
            .map_err(internal)?;
        if n == 0 {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }
}
