//! The devices part of the UI's backend: the devices page (configure, check, test, assign) and
//! printing at the counter (a printout queued on the caller's counter printer, its jobs,
//! re-print). Sending is the print queue's; these only add rows.

use simpul_app::error::{ApiError, Refusal};
use simpul_app::wire::{
    CounterChoice, DeviceClass, DeviceForm, DeviceView, DevicesView, DiscoveryView, FoundDevice, JobState,
    PrintJobView, Printout, TestOutcome, UserView,
};
use simpul_hardware::{DeviceError, DeviceKind};
use time::OffsetDateTime;

use crate::backend::{AppBackend, internal, local_datetime};
use crate::devices::{self, DeviceState};
use simpul_app::backend::DeviceBackend;
use simpul_store::audit::{self, Actor};
use simpul_store::devices::{self as store, Device, Job, JobStatus, NewJob};

/// How many jobs the devices page lists.
const RECENT_JOBS: usize = 30;

pub(crate) fn class_of(kind: DeviceKind) -> DeviceClass {
    match kind {
        DeviceKind::DocumentPrinter => DeviceClass::DocumentPrinter,
        DeviceKind::TicketPrinter => DeviceClass::TicketPrinter,
        DeviceKind::Scanner => DeviceClass::Scanner,
        DeviceKind::Biometric => DeviceClass::Biometric,
    }
}

pub(crate) fn kind_of(class: DeviceClass) -> DeviceKind {
    match class {
        DeviceClass::DocumentPrinter => DeviceKind::DocumentPrinter,
        DeviceClass::TicketPrinter => DeviceKind::TicketPrinter,
        DeviceClass::Scanner => DeviceKind::Scanner,
        DeviceClass::Biometric => DeviceKind::Biometric,
    }
}

fn local(rfc3339: &str, zone: simpul_domain::zone::Zone) -> String {
    crate::backend::applications::parse_local(rfc3339).map_or_else(|| rfc3339.to_string(), |t| local_datetime(t, zone))
}

fn device_view(d: &Device, zone: simpul_domain::zone::Zone) -> DeviceView {
    let state: Option<DeviceState> = d.state.as_deref().and_then(|s| serde_json::from_str(s).ok());
    let state_ref = state.as_ref();
    DeviceView {
        id: d.id.clone(),
        class: class_of(d.kind),
        name: d.name.clone(),
        address: d.address.clone(),
        counter: d.counter.clone(),
        ready: state_ref.map(DeviceState::ready),
        problems: state_ref.map(|s| s.problems.clone()).unwrap_or_default(),
        warnings: state_ref.map(|s| s.warnings.clone()).unwrap_or_default(),
        model: state_ref.and_then(|s| s.model.clone()),
        supplies: state_ref.map(|s| s.supplies.clone()).unwrap_or_default(),
        identity: d.identity.clone(),
        certificate: d.certificate.clone(),
        checked_at: d.checked_at.as_deref().map(|t| local(t, zone)),
    }
}

fn job_view(j: &Job, printer: &str, zone: simpul_domain::zone::Zone) -> PrintJobView {
    PrintJobView {
        id: j.id.clone(),
        title: j.title.clone(),
        printer: printer.to_string(),
        state: match j.status {
            JobStatus::Queued => JobState::Queued,
            JobStatus::Sent => JobState::Sent,
            JobStatus::Done => JobState::Done,
            JobStatus::Failed => JobState::Failed,
        },
        problem: j.error.clone(),
        attempts: j.attempts,
        at: local(&j.updated_at, zone),
    }
}

fn jobs_view(
    jobs: &[Job],
    names: &std::collections::HashMap<String, String>,
    zone: simpul_domain::zone::Zone,
) -> Vec<PrintJobView> {
    jobs.iter()
        .map(|j| {
            let printer = names.get(&j.device_id).map_or("?", String::as_str);
            job_view(j, printer, zone)
        })
        .collect()
}

/// Marks a scan failed as abandoned when the request that runs it is dropped before the scan
/// ends (the page was left or reloaded), so its row never stays "scanning".
struct AbandonedScan {
    core: std::sync::Arc<crate::state::Core>,
    job: Option<String>,
}

impl Drop for AbandonedScan {
    fn drop(&mut self) {
        let Some(job) = self.job.take() else { return };
        let core = self.core.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let now = OffsetDateTime::now_utc();
                if let Err(e) = core.db.call(move |c| simpul_store::scans::failed(c, &job, "abandoned", now)).await {
                    tracing::warn!(error = %e, "an abandoned scan could not be marked");
                }
            });
        }
    }
}

fn store_refusal(e: simpul_store::db::StoreError) -> ApiError {
    match e {
        simpul_store::db::StoreError::Conflict(_) => ApiError::Refused(Refusal::Device("duplicate".into())),
        simpul_store::db::StoreError::NotFound => ApiError::NotFound,
        other => internal(other),
    }
}

/// The counter a form names: none for an empty field (the whole office), else an id that
/// exists (`NotFound` otherwise).
fn known_counter(conn: &simpul_store::Connection, field: &str) -> Result<Option<String>, simpul_store::db::StoreError> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    simpul_store::queue::counter_of(conn, None, Some(field))?.map(Some).ok_or(simpul_store::db::StoreError::NotFound)
}

impl AppBackend {
    async fn configured(&self, id: &str) -> Result<Device, ApiError> {
        let id = id.to_string();
        self.core.db.call(move |c| store::get(c, &id)).await.map_err(internal)?.ok_or(ApiError::NotFound)
    }

    /// The device of `kind` for the counter the caller has open (else the office's), or the
    /// refusal `missing`.
    async fn counter_device(&self, user: &UserView, kind: DeviceKind, missing: &str) -> Result<Device, ApiError> {
        let staff = user.id.clone();
        self.core
            .db
            .call(move |c| {
                let counter = simpul_store::queue::counter_of(c, Some(&staff), None)?;
                store::for_counter(c, kind, counter.as_deref())
            })
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::Refused(Refusal::Device(missing.to_string())))
    }

    async fn scan_and_attach(
        &self,
        user: &UserView,
        id: &str,
        item: usize,
        scanner: &simpul_store::devices::Device,
    ) -> Result<(u32, String), ApiError> {
        let scan = crate::devices::scanning::scan(scanner).await.map_err(|e| {
            tracing::warn!(error = %e, "scan failed");
            ApiError::Refused(Refusal::Device(e.code()))
        })?;
        let checked = simpul_domain::attachment::check_upload("pindaian", &scan.copy.bytes)
            .map_err(|p| crate::http::files::upload_problem(&p))?;
        // The original first: if anything fails later it is an unused file, never a record
        // pointing at nothing.
        let original = scan.original;
        let (orig_type, orig_size) = (original.content_type, original.bytes.len());
        let orig_sha = self.write_blob(original.bytes).await?;
        let key = orig_sha.clone();
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                simpul_store::blobs::record(&tx, &key, orig_size, orig_type, OffsetDateTime::now_utc())?;
                simpul_store::blobs::keep_local(&tx, &key)?;
                tx.commit()?;
                Ok(())
            })
            .await
            .map_err(internal)?;
        let copy_sha = simpul_store::blobs::digest(&scan.copy.bytes);
        self.app_upload(
            user,
            id,
            crate::backend::applications::UploadTarget::Requirement(item),
            checked,
            scan.copy.bytes,
        )
        .await?;
        if copy_sha != orig_sha {
            let copy = copy_sha.clone();
            self.core
                .db
                .call(move |c| simpul_store::blobs::link_original(c, &copy, &orig_sha))
                .await
                .map_err(internal)?;
        }
        Ok((u32::try_from(scan.pages).unwrap_or(u32::MAX), copy_sha))
    }

    /// Starts the live preview of the `modality` device plugged into the box (the caller's
    /// counter's, else the office's): the ready device of that modality, its identity checked
    /// against the pins as for a capture.
    pub(crate) async fn preview_on_box(
        &self,
        user: &UserView,
        modality: &str,
        seconds: u32,
    ) -> Result<simpul_hardware::sbi::Preview, ApiError> {
        use simpul_sbi::Modality;
        let wanted = Modality::from_name(modality).ok_or_else(|| ApiError::BadRequest("unknown modality".into()))?;
        let (service, chosen) = self.box_biometric(user, wanted).await?;
        let sub_id = chosen.description.device_sub_id.first().copied().unwrap_or(0);
        service
            .preview(&chosen.device_id, sub_id, seconds)
            .await
            .map_err(|e| ApiError::Refused(Refusal::Device(e.code())))
    }

    /// The biometric service plugged into the box for the caller's counter (else the office's)
    /// and its ready device of `wanted`, identities checked against the pins: what a capture and
    /// a preview on the box both start from.
    async fn box_biometric(
        &self,
        user: &UserView,
        wanted: simpul_sbi::Modality,
    ) -> Result<(Box<dyn simpul_hardware::driver::BiometricService>, simpul_hardware::sbi::DeviceInfo), ApiError> {
        let refused = |e: &DeviceError| ApiError::Refused(Refusal::Device(e.code()));
        let device = self.counter_device(user, DeviceKind::Biometric, "no_biometric").await?;
        let service = devices::biometric(&device).map_err(|e| refused(&e))?;
        let infos = service.devices().await.map_err(|e| refused(&e))?;
        let chosen = ready_device(&infos, wanted)?.clone();
        Ok((service, chosen))
    }

    /// Records verified captures on application `id`: each image stored like an upload, each
    /// capture with its device, quality and time, in one transaction.
    async fn record_captures(
        &self,
        user: &UserView,
        id: &str,
        captured: Vec<simpul_hardware::sbi::Captured>,
    ) -> Result<u32, ApiError> {
        let who = self.who(user).await?;
        let mut records = Vec::with_capacity(captured.len());
        for c in captured {
            let checked = simpul_domain::attachment::check_capture(&c.image)
                .map_err(|p| crate::http::files::upload_problem(&p))?;
            let sha = self.write_blob(c.image.clone()).await?;
            // A record whose image can be shown: the image is stored beside it, for the page.
            let picture = match c.record.as_ref().and_then(|r| r.picture.clone()) {
                Some((bytes, _)) => {
                    let checked = simpul_domain::attachment::check_capture(&bytes)
                        .map_err(|p| crate::http::files::upload_problem(&p))?;
                    Some((self.write_blob(bytes).await?, checked))
                }
                None => None,
            };
            let position = if c.modality.has_parts() { c.sub_type.position() } else { String::new() };
            let kind = c.modality.record_kind();
            let key: String = c.key_fingerprint.chars().take(12).collect();
            records.push((
                sha,
                checked,
                picture,
                simpul_sync::records::CaptureDoc {
                    modality: kind.into(),
                    position,
                    blob: None,
                    picture: None,
                    record_format: c.record.as_ref().map(|r| r.describe()),
                    quality: Some(u64::from(c.quality)),
                    device: format!("{} (kunci {key})", c.serial),
                    exception: None,
                    at: who.time_text(),
                },
            ));
        }
        let count = records.len() as u32;
        let id = id.to_string();
        self.app_tx(move |tx| {
            for (sha, checked, picture, mut capture) in records {
                simpul_store::blobs::record(tx, &sha, checked.size, checked.content_type, who.at)?;
                capture.blob = Some(sha);
                if let Some((sha, checked)) = picture {
                    simpul_store::blobs::record(tx, &sha, checked.size, checked.content_type, who.at)?;
                    capture.picture = Some(sha);
                }
                crate::office::applications::record_capture(tx, &who, &id, capture)?;
            }
            Ok(())
        })
        .await?;
        Ok(count)
    }
}

/// The device of `wanted` a capture or a preview on the box uses: a ready one, else the
/// reason there is none (no such device, or the one there is not ready).
fn ready_device(
    infos: &[simpul_hardware::sbi::DeviceInfo],
    wanted: simpul_sbi::Modality,
) -> Result<&simpul_hardware::sbi::DeviceInfo, ApiError> {
    use simpul_sbi::DeviceStatus;
    let chosen = infos
        .iter()
        .filter(|i| i.modality == Some(wanted))
        .min_by_key(|i| i.status != DeviceStatus::Ready)
        .ok_or_else(|| ApiError::Refused(Refusal::Device("no_biometric_device".into())))?;
    if chosen.status != DeviceStatus::Ready {
        return Err(ApiError::Refused(Refusal::Device(format!(
            "other:{} {:?}",
            chosen.digital_id.model, chosen.status
        ))));
    }
    Ok(chosen)
}

/// Fingers or eyes of `modality` named by their positions (`left_thumb`..., `left` and
/// `right` for the eyes), each once; anything else, or any part of a modality without parts,
/// is refused.
fn parts(modality: simpul_sbi::Modality, names: &[String]) -> Result<Vec<simpul_sbi::BioSubType>, ApiError> {
    use simpul_sbi::BioSubType;
    let mut out: Vec<BioSubType> = Vec::new();
    for name in names {
        let part = BioSubType::from_position(name)
            .filter(|p| p.modality() == Some(modality))
            .ok_or_else(|| ApiError::BadRequest(format!("not a part that {modality} captures")))?;
        if !out.contains(&part) {
            out.push(part);
        }
    }
    Ok(out)
}

#[async_trait::async_trait]
impl DeviceBackend for AppBackend {
    async fn get_devices(&self) -> Result<DevicesView, ApiError> {
        let zone = self.zone().await;
        let (list, counters, jobs, names) = self
            .core
            .db
            .call(|c| {
                let counters = simpul_store::queue::counters(c)?;
                Ok((store::list(c)?, counters, store::recent(c, RECENT_JOBS)?, store::names(c)?))
            })
            .await
            .map_err(internal)?;
        Ok(DevicesView {
            devices: list.iter().map(|d| device_view(d, zone)).collect(),
            counters: counters.into_iter().map(|c| CounterChoice { id: c.id, name: c.name }).collect(),
            jobs: jobs_view(&jobs, &names, zone),
        })
    }

    async fn add_device(&self, user: &UserView, form: DeviceForm) -> Result<String, ApiError> {
        let kind = kind_of(form.class);
        let name = devices::validate_name(&form.name)
            .map_err(|_| ApiError::Refused(Refusal::Fields(vec![("name".into(), "length".into(), String::new())])))?;
        let address = devices::validate_address(kind, &form.address).map_err(|_| {
            ApiError::Refused(Refusal::Fields(vec![(
                "address".into(),
                format!("address_{}", kind.code()),
                String::new(),
            )]))
        })?;
        let (field, by) = (form.counter, user.id.clone());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                let counter = known_counter(&tx, &field)?;
                let now = OffsetDateTime::now_utc();
                let id = store::add(&tx, kind, &name, &address, counter.as_deref(), now)?;
                audit::record(&tx, now, &Actor::Staff(by), "device_added", Some(&id), Some(kind.code()))?;
                tx.commit()?;
                Ok(id)
            })
            .await
            .map_err(store_refusal)
    }

    async fn check_device(&self, id: &str) -> Result<DeviceView, ApiError> {
        let device = self.configured(id).await?;
        devices::refresh(&self.core, &device).await.map_err(internal)?;
        let zone = self.zone().await;
        Ok(device_view(&self.configured(id).await?, zone))
    }

    async fn assign_device(&self, user: &UserView, id: &str, counter: &str) -> Result<(), ApiError> {
        let (id, by, field) = (id.to_string(), user.id.clone(), counter.to_string());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                let counter = known_counter(&tx, &field)?;
                if !store::set_counter(&tx, &id, counter.as_deref())? {
                    return Err(simpul_store::db::StoreError::NotFound);
                }
                let now = OffsetDateTime::now_utc();
                audit::record(&tx, now, &Actor::Staff(by), "device_assigned", Some(&id), counter.as_deref())?;
                tx.commit()?;
                Ok(())
            })
            .await
            .map_err(store_refusal)
    }

    async fn rename_device(&self, user: &UserView, id: &str, name: &str) -> Result<(), ApiError> {
        let name = devices::validate_name(name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let (id, by) = (id.to_string(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                if !store::rename(&tx, &id, &name)? {
                    return Err(simpul_store::db::StoreError::NotFound);
                }
                audit::record(&tx, OffsetDateTime::now_utc(), &Actor::Staff(by), "device_renamed", Some(&id), None)?;
                tx.commit()?;
                Ok(())
            })
            .await
            .map_err(store_refusal)
    }

    /// Takes a device out of service; answers how many unfinished print jobs were stopped
    /// (their documents stay, and a re-print goes to the counter's printer now in service).
    async fn remove_device(&self, user: &UserView, id: &str) -> Result<u32, ApiError> {
        let (id, by) = (id.to_string(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                let now = OffsetDateTime::now_utc();
                let stopped = store::retire(&tx, &id, now)?;
                audit::record(&tx, now, &Actor::Staff(by), "device_removed", Some(&id), Some(&stopped.to_string()))?;
                tx.commit()?;
                Ok(u32::try_from(stopped).unwrap_or(u32::MAX))
            })
            .await
            .map_err(store_refusal)
    }

    async fn accept_device_identity(&self, user: &UserView, id: &str) -> Result<(), ApiError> {
        let device = self.configured(id).await?;
        // Forget the old identity and pin what answers now.
        let (key, by) = (device.id.clone(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                store::set_identity(&tx, &key, None)?;
                store::forget_certificate(&tx, &key)?;
                audit::record(
                    &tx,
                    OffsetDateTime::now_utc(),
                    &Actor::Staff(by),
                    "device_identity_reset",
                    Some(&key),
                    None,
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
            .map_err(internal)?;
        let device = self.configured(id).await?;
        let state = devices::refresh(&self.core, &device).await.map_err(internal)?;
        match state.problems.first() {
            Some(problem) if state.identity.is_none() => Err(ApiError::Refused(Refusal::Device(problem.clone()))),
            _ => Ok(()),
        }
    }

    async fn test_device(&self, user: &UserView, id: &str) -> Result<TestOutcome, ApiError> {
        let device = self.configured(id).await?;
        match device.kind {
            DeviceKind::DocumentPrinter | DeviceKind::TicketPrinter => {
                let now = OffsetDateTime::now_utc();
                let (format, document) =
                    devices::test_job(&device, now).map_err(|e| ApiError::Refused(Refusal::Device(e.code())))?;
                let by = user.id.clone();
                let job = self
                    .core
                    .db
                    .call(move |c| {
                        let job = NewJob {
                            device_id: &device.id,
                            title: "Halaman uji Simpul",
                            subject: None,
                            format,
                            document: &document,
                            created_by: &by,
                            reprint_of: None,
                        };
                        store::enqueue(c, &job, now)
                    })
                    .await
                    .map_err(internal)?;
                Ok(TestOutcome::Queued(job))
            }
            DeviceKind::Scanner => Ok(match devices::test_scan(&device).await {
                Ok(what) => TestOutcome::Worked(what),
                Err(e) => TestOutcome::Failed(e.code()),
            }),
            DeviceKind::Biometric => Ok(match devices::test_capture(&device).await {
                Ok(what) => TestOutcome::Worked(what),
                Err(e) => TestOutcome::Failed(e.code()),
            }),
        }
    }

    /// Devices found and not configured yet: printers and scanners announced on the LAN by
    /// mDNS, biometric device services on this box.
    async fn discover_devices(&self) -> Result<DiscoveryView, ApiError> {
        let configured: Vec<String> =
            self.core.db.call(|c| store::list(c)).await.map_err(internal)?.into_iter().map(|d| d.address).collect();
        let found = crate::devices::discover(&configured, crate::devices::DISCOVERY_WINDOW).await;
        Ok(DiscoveryView {
            found: found
                .found
                .into_iter()
                .map(|f| FoundDevice {
                    class: class_of(f.kind),
                    name: f.name,
                    address: f.address,
                    via: f.via.code().into(),
                })
                .collect(),
            network_error: found.network_error.map(|e| e.code()),
        })
    }

    async fn print_printout(&self, user: &UserView, id: &str, printout: Printout) -> Result<String, ApiError> {
        let printer = self.counter_device(user, DeviceKind::DocumentPrinter, "no_printer").await?;
        let (name, bytes) = self.printout(user, id, matches!(printout, Printout::Receipt)).await?;
        let title = name.trim_end_matches(".pdf").to_string();
        let (subject, by) = (id.to_string(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                let job = NewJob {
                    device_id: &printer.id,
                    title: &title,
                    subject: Some(&subject),
                    format: "application/pdf",
                    document: &bytes,
                    created_by: &by,
                    reprint_of: None,
                };
                store::enqueue(c, &job, OffsetDateTime::now_utc())
            })
            .await
            .map_err(internal)
    }

    async fn print_jobs(&self, id: &str) -> Result<Vec<PrintJobView>, ApiError> {
        let zone = self.zone().await;
        let id = id.to_string();
        let (jobs, names) =
            self.core.db.call(move |c| Ok((store::jobs_of(c, &id)?, store::names(c)?))).await.map_err(internal)?;
        Ok(jobs_view(&jobs, &names, zone))
    }

    async fn scan_jobs(&self, id: &str) -> Result<Vec<simpul_app::wire::ScanJobView>, ApiError> {
        let zone = self.zone().await;
        let id = id.to_string();
        let (scans, names) = self
            .core
            .db
            .call(move |c| Ok((simpul_store::scans::of(c, &id)?, store::names(c)?)))
            .await
            .map_err(internal)?;
        Ok(scans
            .into_iter()
            .map(|j| simpul_app::wire::ScanJobView {
                scanner: names.get(&j.device_id).cloned().unwrap_or_else(|| "?".into()),
                state: j.status.code().to_string(),
                at: local(&j.created_at, zone),
                id: j.id,
                item: j.item,
                problem: j.problem,
                pages: j.pages,
            })
            .collect())
    }

    async fn reprint(&self, user: &UserView, job: &str) -> Result<String, ApiError> {
        let (job, by) = (job.to_string(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                let now = OffsetDateTime::now_utc();
                let Some(id) = store::reprint(&tx, &job, &by, now)? else {
                    return Ok(Err(ApiError::Refused(Refusal::Device("no_device".into()))));
                };
                audit::record(&tx, now, &Actor::Staff(by.clone()), "reprint", Some(&job), Some(&id))?;
                tx.commit()?;
                Ok(Ok(id))
            })
            .await
            .map_err(store_refusal)?
    }

    /// Scans requirement `item` of application `id` on the caller's counter scanner: the
    /// original stays on this box, the grey copy is attached (and syncs). Each scan is a row
    /// (`store::scans`) that ends done or failed with the reason.
    async fn scan_requirement(&self, user: &UserView, id: &str, item: usize) -> Result<u32, ApiError> {
        let scanner = self.counter_device(user, DeviceKind::Scanner, "no_scanner").await?;
        // Refuse before scanning when the line cannot take a file.
        let check_id = id.to_string();
        self.core
            .db
            .call(move |c| Ok(crate::office::applications::check_attach(c, &check_id, Some(item))))
            .await
            .map_err(internal)?
            .map_err(crate::backend::applications::app_error)?;
        let (device, subject, by) = (scanner.id.clone(), id.to_string(), user.id.clone());
        let line = u32::try_from(item).unwrap_or(u32::MAX);
        let job = self
            .core
            .db
            .call(move |c| simpul_store::scans::start(c, &device, &subject, line, &by, OffsetDateTime::now_utc()))
            .await
            .map_err(internal)?;
        // Should the request be dropped mid-scan (the page was left), the row still ends.
        let mut guard = AbandonedScan { core: self.core.clone(), job: Some(job.clone()) };
        let result = self.scan_and_attach(user, id, item, &scanner).await;
        guard.job = None;
        let now = OffsetDateTime::now_utc();
        let recorded = match &result {
            Ok((pages, copy)) => {
                let (job, pages, copy) = (job, *pages, copy.clone());
                self.core.db.call(move |c| simpul_store::scans::done(c, &job, pages, &copy, now)).await
            }
            Err(e) => {
                let problem = match e {
                    ApiError::Refused(Refusal::Device(code)) => code.clone(),
                    ApiError::Refused(Refusal::Upload(code)) => format!("upload_{code}"),
                    _ => "not_stored".to_string(),
                };
                self.core.db.call(move |c| simpul_store::scans::failed(c, &job, &problem, now)).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "the scan's outcome could not be recorded");
        }
        result.map(|(pages, _)| pages)
    }

    /// Records the signed captures a device on the counter PC gave the browser. Each block's
    /// signature is checked here (and its key against the one pinned for that serial when the
    /// device is configured on the devices page); the images are stored like uploads.
    async fn hand_captures(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        transaction: &str,
        blocks: Vec<String>,
    ) -> Result<u32, ApiError> {
        use simpul_sbi::Modality;
        let refused = |code: &str| ApiError::Refused(Refusal::Device(code.to_string()));
        let wanted = Modality::from_name(modality).ok_or_else(|| ApiError::BadRequest("unknown modality".into()))?;
        if blocks.is_empty() || blocks.len() > 12 || transaction.is_empty() || transaction.len() > 64 {
            return Err(ApiError::BadRequest("1 to 12 capture blocks of one transaction".into()));
        }
        // Only under a transaction this box issued for this record and this staff member: a
        // signed capture of someone else, or an old one, is not taken.
        let (t, app, staff) = (transaction.to_string(), id.to_string(), user.id.clone());
        let issued = self
            .core
            .db
            .call(move |c| simpul_store::captures::valid(c, &t, &app, &staff, OffsetDateTime::now_utc()))
            .await
            .map_err(internal)?;
        if !issued {
            tracing::warn!("captures handed over under a transaction this box did not issue for the record");
            return Err(refused("capture_transaction"));
        }
        // Keys pinned for configured biometric devices, by serial.
        let pins: Vec<simpul_hardware::sbi::Pin> = self
            .core
            .db
            .call(|c| store::list(c))
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|d| d.kind == DeviceKind::Biometric)
            .filter_map(|d| d.identity)
            .flat_map(|i| simpul_hardware::sbi::pins_of(&i))
            .collect();
        let mut captured = Vec::with_capacity(blocks.len());
        for block in &blocks {
            let first = simpul_hardware::sbi::verify_capture(block, None).map_err(|e| refused(&e.code()))?;
            if let Some(pin) = pins.iter().find(|p| p.serial == first.serial)
                && !pin.key_fingerprint.eq_ignore_ascii_case(&first.key_fingerprint)
            {
                tracing::warn!("a capture signed with a key other than its device's pinned one");
                return Err(refused("identity"));
            }
            if first.modality != wanted || first.transaction_id != transaction {
                return Err(refused("protocol"));
            }
            captured.push(first);
        }
        self.record_captures(user, id, captured).await
    }

    /// Opens a capture transaction for application `id`: the id the device signs into each
    /// capture, which [`Self::captures_from_browser`] then requires.
    async fn begin_capture(&self, user: &UserView, id: &str) -> Result<String, ApiError> {
        let (app, staff) = (id.to_string(), user.id.clone());
        self.core
            .db
            .call(move |c| {
                Ok(crate::office::applications::check_attach(c, &app, None)
                    .map(|()| simpul_store::captures::issue(c, &app, &staff, OffsetDateTime::now_utc())))
            })
            .await
            .map_err(internal)?
            .map_err(crate::backend::applications::app_error)?
            .map_err(internal)
    }

    /// Captures `modality` on the biometric device plugged into this box (the one configured
    /// for the caller's counter, else the office's), leaving out the `missing` fingers or eyes, and
    /// records what the device gave after checking it: signatures, the keys pinned for the
    /// service, the transaction, what was asked for.
    async fn capture_on_box(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        missing: Vec<String>,
    ) -> Result<u32, ApiError> {
        use simpul_sbi::Modality;
        let refused = |e: &DeviceError| ApiError::Refused(Refusal::Device(e.code()));
        let wanted = Modality::from_name(modality).ok_or_else(|| ApiError::BadRequest("unknown modality".into()))?;
        let skipped = parts(wanted, &missing)?;
        if simpul_sbi::nothing_to_capture(wanted, &skipped) {
            return Err(ApiError::BadRequest(
                "every part is left out: record the exceptions, there is nothing to capture".into(),
            ));
        }
        // Refuse before the applicant is asked to put a finger down when the record cannot
        // take captures.
        let check_id = id.to_string();
        self.core
            .db
            .call(move |c| Ok(crate::office::applications::check_attach(c, &check_id, None)))
            .await
            .map_err(internal)?
            .map_err(crate::backend::applications::app_error)?;
        let (service, chosen) = self.box_biometric(user, wanted).await?;
        let transaction = uuid::Uuid::new_v4().to_string();
        let plan = simpul_sbi::capture_plan(
            wanted,
            &chosen.device_id,
            &chosen.description.device_sub_id,
            &transaction,
            &skipped,
        );
        let mut captured = Vec::new();
        for request in &plan {
            captured.extend(service.capture(request).await.map_err(|e| refused(&e))?);
        }
        if captured.is_empty() {
            return Err(ApiError::Refused(Refusal::Device("protocol".into())));
        }
        self.record_captures(user, id, captured).await
    }

    /// Records fingers or eyes that cannot be captured (missing, injured) in place of their
    /// images, as the counter staff declare them. A later capture of the same finger or eye
    /// replaces its exception, and the other way round. Answers how many were recorded.
    async fn record_capture_exceptions(
        &self,
        user: &UserView,
        id: &str,
        modality: &str,
        names: Vec<String>,
        reason: simpul_sbi::ExceptionReason,
    ) -> Result<u32, ApiError> {
        let modality = simpul_sbi::Modality::from_name(modality)
            .filter(|m| m.has_parts())
            .ok_or_else(|| ApiError::BadRequest("exceptions are for fingers and eyes".into()))?;
        let positions = parts(modality, &names)?;
        if positions.is_empty() {
            return Err(ApiError::BadRequest("nothing chosen".into()));
        }
        let who = self.who(user).await?;
        let at = who.time_text();
        let by = format!("petugas {}", user.username);
        let count = positions.len() as u32;
        let id = id.to_string();
        self.app_tx(move |tx| {
            for part in positions {
                let capture = simpul_sync::records::CaptureDoc {
                    modality: modality.record_kind().into(),
                    position: part.position(),
                    blob: None,
                    picture: None,
                    record_format: None,
                    quality: None,
                    device: by.clone(),
                    exception: Some(reason.code().into()),
                    at: at.clone(),
                };
                crate::office::applications::record_capture(tx, &who, &id, capture)?;
            }
            Ok(())
        })
        .await?;
        Ok(count)
    }
}
