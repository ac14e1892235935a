//! `sync_bench`: the sync protocol's costs, measured on the in-memory replicas through the real
//! wire encoding (the same session steps the server runs on SQLite). Prints figures, asserts
//! nothing.
//!
//! 1. 10 offices x 3 days x 200 applications, each taken through intake, submission,
//!    verification, production and hand-over, one sync session per office per day: bytes on
//!    the wire per application, and their ratio to the zstd-compressed JSON of the same records
//!    (the full records of that day, as a plain upload would send them).
//! 2. Round trips per session.
//! 3. 10 of 10,000 documents changed: bytes sent, next to 10 of 1,000 (must not grow).
//!
//! Usage: `cargo run --release -p simpul-tests --bin sync_bench`.

use std::time::Instant;

use automerge::ActorId;
use simpul_sync::DocumentId;
use simpul_sync::memory::{MemoryReplica, session};
use simpul_sync::records::{ApplicantDoc, ApplicationDoc, ChecklistDoc, HandoverDoc, StepDoc};

const NOW: i64 = 1_795_000_000;

/// A deterministic pseudo-random stream, so that the records differ the way real ones do
/// (names, numbers, addresses): near-identical records would flatter the JSON baseline.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() as usize) % from.len()]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + (self.next() % 10) as u8)).collect()
    }
}

const FIRST: &[&str] =
    &["I Made", "Ni Luh", "I Wayan", "Ni Komang", "I Ketut", "Ni Putu", "I Nyoman", "Ni Kadek", "Gusti", "Dewa Ayu"];
const NAMES: &[&str] = &[
    "Suardana",
    "Lestari",
    "Sudirta",
    "Purnami",
    "Arsana",
    "Wulandari",
    "Mahendra",
    "Sukerti",
    "Widiasa",
    "Antari",
    "Budiarta",
    "Cahyani",
];
const STREETS: &[&str] = &[
    "Jl. Raya Mengwi",
    "Jl. Ayani",
    "Gg. Melati",
    "Jl. Sempidi",
    "Jl. Raya Kapal",
    "Jl. Cempaka",
    "Br. Delod Bale Agung",
    "Jl. Gatot Subroto",
];

fn application(office: &str, day: u32, n: u32) -> ApplicationDoc {
    let mut rng =
        Lcg(u64::from(day) << 32 | u64::from(n) | (office.len() as u64) << 48 | u64::from(office.as_bytes()[7]) << 40);
    let name = format!("{} {} {}", rng.pick(FIRST), rng.pick(NAMES), rng.pick(NAMES));
    let born = format!("19{}-{:02}-{:02}", 50 + rng.next() % 50, 1 + rng.next() % 12, 1 + rng.next() % 28);
    ApplicationDoc {
        schema: simpul_sync::records::APPLICATION_SCHEMA,
        number: format!("{}-2026112{day}-{n:04}", office.replace('.', "")),
        office: office.into(),
        service_id: "ktp-el-perubahan-data".into(),
        service_kind: "ktp_el_change".into(),
        service_title: "Penerbitan KTP-el karena perubahan data".into(),
        status: "draft".into(),
        created_at: format!("2026-11-2{day}T08:{:02}:00+08:00", n % 60),
        created_by: "petugas-1".into(),
        ticket: Some(format!("A-{n:03}")),
        applicant: ApplicantDoc {
            nik: format!("510302{}", rng.digits(10)),
            name: name.clone(),
            sex: rng.pick(&["male", "female"]).into(),
            birth_place: rng.pick(&["Badung", "Denpasar", "Tabanan", "Gianyar", "Jembrana"]).into(),
            birth_date: born,
            marital: rng.pick(&["single", "married", "widowed"]).into(),
            address: format!(
                "{} No. {}, RT {:03}/RW {:03}",
                rng.pick(STREETS),
                rng.next() % 200,
                rng.next() % 20,
                rng.next() % 10
            ),
            region: office.into(),
            kk_number: format!("510302{}", rng.digits(10)),
            nationality: "IDN".into(),
            passport_number: None,
            passport_expires: None,
            permit_kind: None,
            permit_number: None,
            permit_expires: None,
            phone: Some(format!("08{}", rng.digits(10))),
            email: Some(format!("{}{}@example.org", name.to_lowercase().replace(' ', "."), rng.next() % 100)),
        },
        proxy: None,
        pickup_proxy: None,
        checklist: ["Fotokopi KK", "KTP-el lama", "Surat keterangan perubahan data"]
            .iter()
            .map(|t| ChecklistDoc { text: (*t).into(), kind: "document".into(), attachments: vec![], confirmed: false })
            .collect(),
        captures: vec![],
        steps: vec![],
        returns: vec![],
        identification: None,
        handover: None,
        resolutions: vec![],
    }
}

fn step(doc: &mut ApplicationDoc, to: &str, action: &str, by: &str) {
    doc.steps.push(StepDoc {
        from: doc.status.clone(),
        to: to.into(),
        action: action.into(),
        by: by.into(),
        at: "2026-11-21T10:00:00+08:00".into(),
        office: doc.office.clone(),
        note: None,
    });
    doc.status = to.into();
}

/// The lifecycle as separate user actions (each one change, as at the counter).
fn lifecycle(replica: &mut MemoryReplica, id: DocumentId, actor: &ActorId, mut doc: ApplicationDoc) -> ApplicationDoc {
    let office = doc.office.clone();
    let save = |replica: &mut MemoryReplica, d: &ApplicationDoc| {
        replica.edit(id, &office, actor, "petugas-1", NOW, |am| autosurgeon::reconcile(am, d).unwrap());
    };
    save(replica, &doc);
    for (i, item) in doc.checklist.iter_mut().enumerate() {
        item.confirmed = true;
        item.attachments.push(format!("{:064x}", i as u128 + 1));
    }
    save(replica, &doc);
    step(&mut doc, "submitted", "submit", "petugas-1");
    save(replica, &doc);
    step(&mut doc, "verified", "verify", "verifikator-1");
    save(replica, &doc);
    step(&mut doc, "ready", "produce", "petugas-1");
    save(replica, &doc);
    step(&mut doc, "handed_over", "hand_over", "petugas-1");
    doc.handover = Some(HandoverDoc {
        recipient: "applicant".into(),
        recipient_nik: doc.applicant.nik.clone(),
        withdrawn_serial: Some("KTP-OLD-1".into()),
        withdrawn_reason: Some("perubahan data".into()),
        withdrawn_disposition: Some("cut".into()),
        copies: None,
        at: "2026-11-21T11:00:00+08:00".into(),
        by: "petugas-1".into(),
    });
    save(replica, &doc);
    doc
}

fn main() {
    let offices: Vec<String> = (1..=10).map(|i| format!("51.03.{i:02}")).collect();
    let mut hub = MemoryReplica::default();
    let mut boxes: Vec<MemoryReplica> = offices.iter().map(|_| MemoryReplica::default()).collect();
    let (mut wire, mut json_zstd, mut apps, mut sessions, mut trips) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut max_trips = 0usize;
    let started = Instant::now();
    for day in 1..=3u32 {
        for (o, office) in offices.iter().enumerate() {
            let actor = ActorId::from(vec![o as u8 + 1; 16]);
            let mut records = Vec::new();
            for n in 0..200u32 {
                let id = DocumentId(uuid::Uuid::from_u128(((o as u128) << 64) | ((day as u128) << 32) | n as u128));
                let doc = lifecycle(&mut boxes[o], id, &actor, application(office, day, n));
                let mut am = automerge::AutoCommit::new();
                autosurgeon::reconcile(&mut am, &doc).unwrap();
                records.push(serde_json::to_value(automerge::AutoSerde::from(&am)).unwrap());
                apps += 1;
            }
            let json = serde_json::to_vec(&records).unwrap();
            json_zstd += zstd::bulk::compress(&json, 3).unwrap().len();
            let stats = session(&mut boxes[o], &mut hub, office, NOW, simpul_sync::protocol::BATCH_BUDGET, |_| false)
                .expect("session");
            wire += stats.bytes_up + stats.bytes_down;
            sessions += 1;
            trips += stats.round_trips;
            max_trips = max_trips.max(stats.round_trips);
        }
    }
    println!("sync_bench (in-memory replicas, real wire encoding; {:.1} s)", started.elapsed().as_secs_f64());
    println!("10 offices x 3 days x 200 applications = {apps} applications, 6 user actions each");
    println!("  bytes on the wire per application      {:>10.0}", wire as f64 / apps as f64);
    println!("  zstd JSON of the same records per app   {:>10.0}", json_zstd as f64 / apps as f64);
    println!("  ratio wire / zstd JSON                  {:>10.2}", wire as f64 / json_zstd as f64);
    println!(
        "  round trips per session                 {:>10.2} (max {max_trips}, {sessions} sessions)",
        trips as f64 / sessions as f64
    );

    for total in [1_000u32, 10_000] {
        let mut hub = MemoryReplica::default();
        let mut office_box = MemoryReplica::default();
        let actor = ActorId::from(vec![42; 16]);
        let mut docs = Vec::new();
        for n in 0..total {
            let id = DocumentId(uuid::Uuid::from_u128(n as u128 + 1));
            let doc = application("51.03.02", 1, n % 10_000);
            office_box.edit(id, "51.03.02", &actor, "petugas-1", NOW, |am| autosurgeon::reconcile(am, &doc).unwrap());
            docs.push((id, doc));
        }
        session(&mut office_box, &mut hub, "51.03.02", NOW, simpul_sync::protocol::BATCH_BUDGET, |_| false).unwrap();
        for (id, doc) in docs.iter_mut().take(10) {
            step(doc, "submitted", "submit", "petugas-1");
            office_box.edit(*id, "51.03.02", &actor, "petugas-1", NOW, |am| autosurgeon::reconcile(am, &*doc).unwrap());
        }
        let scanned = office_box.scanned;
        let stats = session(&mut office_box, &mut hub, "51.03.02", NOW, simpul_sync::protocol::BATCH_BUDGET, |_| false)
            .unwrap();
        println!(
            "10 of {total:>6} documents changed: {:>6} bytes up, {:>6} bytes down, {} round trip(s), {} log entries read",
            stats.bytes_up,
            stats.bytes_down,
            stats.round_trips,
            office_box.scanned - scanned
        );
    }
}
