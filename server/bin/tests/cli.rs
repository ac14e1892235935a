//! The `simpul` command line as a process: every command honours `SIMPUL_DATA_DIR`, imports are
//! all-or-nothing, failures exit non-zero with a message in English.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    std::env::var("SIMPUL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

struct Box {
    dir: tempfile::TempDir,
}

impl Box {
    fn new() -> Box {
        Box { dir: tempfile::tempdir().unwrap() }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_simpul"));
        c.current_dir(self.dir.path()).env("SIMPUL_DATA_DIR", self.data()).env_remove("SIMPUL_CONFIG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn users_are_added_listed_and_given_new_passwords() {
    let b = Box::new();
    let out = ok(&b.run_with_stdin(
        &[
            "user",
            "add",
            "--username",
            "Wayan",
            "--name",
            "I Wayan Admin",
            "--role",
            "admin_kabupaten",
            "--password-stdin",
        ],
        "kopi-bali-pagi\n",
    ));
    assert!(out.contains("Created wayan (admin_kabupaten)"), "{out}");
    assert!(b.data().join("simpul.sqlite3").exists(), "SIMPUL_DATA_DIR honoured");

    let out =
        ok(&b.run(&["user", "add", "--username", "ayu", "--name", "Ayu", "--role", "petugas", "--office", "51.03.02"]));
    let generated = out.lines().find_map(|l| l.strip_prefix("Password: ")).expect("generated password printed");
    assert_eq!(generated.len(), 19);

    let list: serde_json::Value = serde_json::from_str(&ok(&b.run(&["user", "list", "--json"]))).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"wayan") && names.contains(&"ayu"));
    assert_eq!(list.as_array().unwrap().iter().find(|u| u["username"] == "ayu").unwrap()["office"], "51.03.02");

    // Refusals: taken name, weak password, unknown role, bad office, unknown user.
    assert!(
        fails(&b.run(&["user", "add", "--username", "ayu", "--name", "A", "--role", "petugas"]))
            .contains("already taken")
    );
    let weak = b.run_with_stdin(
        &["user", "add", "--username", "budi", "--name", "B", "--role", "petugas", "--password-stdin"],
        "123\n",
    );
    assert!(fails(&weak).contains("password refused"));
    assert!(
        fails(&b.run(&["user", "add", "--username", "budi", "--name", "B", "--role", "lurah"]))
            .contains("unknown role")
    );
    assert!(
        fails(&b.run(&["user", "add", "--username", "budi", "--name", "B", "--role", "petugas", "--office", "51.03"]))
            .contains("not a kecamatan")
    );
    assert!(fails(&b.run(&["user", "passwd", "nobody"])).contains("no account"));

    let out = ok(&b.run_with_stdin(&["user", "passwd", "ayu", "--password-stdin"], "teh-manis-sore\n"));
    assert!(out.contains("Password of ayu changed"));
    ok(&b.run(&["user", "disable", "ayu"]));
    let list: serde_json::Value = serde_json::from_str(&ok(&b.run(&["user", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().iter().find(|u| u["username"] == "ayu").unwrap()["active"], false);
}

#[test]
fn the_national_region_list_imports_and_reimports() {
    let b = Box::new();
    let file = fixtures().join("wilayah/kode-wilayah-kecamatan.csv");
    let out = ok(&b.run(&["wilayah", "import", file.to_str().unwrap()]));
    assert!(
        out.contains("Imported 7837 region codes (38 provinces, 514 regencies/cities, 7285 kecamatan): 7837 new"),
        "{out}"
    );
    let out = ok(&b.run(&["wilayah", "import", file.to_str().unwrap()]));
    assert!(out.contains("0 new, 0 renamed, 7837 unchanged, 0 retired"), "{out}");
    // A list that is bad anywhere imports nothing.
    let bad = b.dir.path().join("bad.csv");
    std::fs::write(&bad, "kode,nama\n51,Bali\n51.99.01,Nowhere\n").unwrap();
    let err = fails(&b.run(&["wilayah", "import", bad.to_str().unwrap()]));
    assert!(err.contains("line 3") && err.contains("parent 51.99"), "{err}");
    assert!(fails(&b.run(&["wilayah", "import", "/no/such.csv"])).contains("cannot read"));
}

#[test]
fn the_three_published_standards_import_and_list_as_json() {
    let b = Box::new();
    let dir = fixtures().join("standar-pelayanan");
    let files: Vec<PathBuf> = ["000_a200f9219f51d82a.txt", "002_b11a949d96e5b3de.txt", "003_13cc4f215da7530e.txt"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let mut args = vec!["catalog", "import"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = ok(&b.run(&args));
    assert_eq!(out.matches(": imported \"").count(), 3, "{out}");
    assert!(out.contains("note:"), "warnings are shown: {out}");

    let json: serde_json::Value = serde_json::from_str(&ok(&b.run(&["catalog", "list", "--json"]))).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let by_kind = |kind: &str| list.iter().find(|s| s["kind"] == kind).unwrap_or_else(|| panic!("kind {kind}"));
    let foreign = by_kind("ktp_el_foreign_new");
    assert_eq!(foreign["sk_number"], "000.8.3.4/2072/Disdukcapil");
    assert_eq!(foreign["completion"]["time"], serde_json::json!({"working_days": 1}));
    assert_eq!(foreign["fee"]["kind"], "free");
    assert_eq!(foreign["requirements"].as_array().unwrap().len(), 4);
    assert_eq!(foreign["procedure"][2]["sub_steps"].as_array().unwrap().len(), 4);
    assert_eq!(foreign["issuer"]["government"], "Pemerintah Kota Denpasar");
    assert_eq!(foreign["products"][0], "Kartu Tanda Penduduk Elektronik");
    assert_eq!(foreign["complaints"].as_array().unwrap().len(), 7);
    assert!(foreign["id"].as_str().unwrap().len() == 36);
    let reissue = by_kind("ktp_el_reissue");
    assert_eq!(reissue["completion"]["time"], serde_json::json!({"minutes": 10}));
    assert!(reissue["completion"]["condition"].as_str().unwrap().contains("gangguan jaringan"));
    let legal = by_kind("legalisation");
    assert_eq!(legal["completion"]["time"], serde_json::json!({"calendar_days": 1}));
    assert_eq!(legal["procedure"].as_array().unwrap().len(), 5);

    // Importing again updates instead of duplicating.
    let out = ok(&b.run(&args));
    assert_eq!(out.matches(": updated \"").count(), 3, "{out}");
    let json: serde_json::Value = serde_json::from_str(&ok(&b.run(&["catalog", "list", "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
}

#[test]
fn a_file_in_neither_layout_fails_and_nothing_is_half_imported() {
    let b = Box::new();
    let good = fixtures().join("standar-pelayanan/003_13cc4f215da7530e.txt");
    let bad = b.dir.path().join("resep.txt");
    std::fs::write(&bad, "Resep nasi goreng\n\nBahan: nasi, telur, kecap\n").unwrap();
    let broken_time = b.dir.path().join("waktu.txt");
    std::fs::write(
        &broken_time,
        "Layanan X\n\nPersyaratan\n\n1. KK\n\nProsedur\n\n1. Datang\n\nWaktu Penyelesaian\n\nSesuai ketentuan\n",
    )
    .unwrap();
    let out =
        b.run(&["catalog", "import", good.to_str().unwrap(), bad.to_str().unwrap(), broken_time.to_str().unwrap()]);
    let err = fails(&out);
    assert!(err.contains("resep.txt: not a service standard"), "{err}");
    assert!(err.contains("waktu.txt: line 13, section 'Waktu Penyelesaian'"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&ok(&b.run(&["catalog", "list", "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 0, "the good file was not imported either");
    let binary = b.dir.path().join("scan.pdf");
    std::fs::write(&binary, b"%PDF-1.4\n\0\0binary").unwrap();
    assert!(fails(&b.run(&["catalog", "import", binary.to_str().unwrap()])).contains("not a UTF-8 text file"));
}

#[test]
fn configuration_errors_and_unusable_data_dirs_are_reported() {
    let b = Box::new();
    let example = ok(&b.run(&["config", "example"]));
    assert!(example.contains("listen = \"127.0.0.1:3000\""));
    let conf = b.dir.path().join("simpul.toml");
    std::fs::write(&conf, "listen = 12\n").unwrap();
    let err = fails(&b.run(&["user", "list"]));
    assert!(err.contains("invalid configuration") && err.contains("listen"), "{err}");
    std::fs::write(&conf, "[hub]\nurl = \"https://hub.example:8443\"\n").unwrap();
    let shown = ok(&b.run(&["config", "show"]));
    assert!(shown.contains("url = \"https://hub.example:8443\""), "{shown}");
    assert!(fails(&b.run(&["--config", "/no/such.toml", "user", "list"])).contains("does not exist"));
    std::fs::remove_file(&conf).unwrap();

    // A data directory that is a file, or that cannot be created, is a clear error.
    let file = b.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = b.cmd().env("SIMPUL_DATA_DIR", &file).args(["user", "list"]).output().unwrap();
    assert!(fails(&out).contains("not a directory"));
    let out = b.cmd().env("SIMPUL_DATA_DIR", "/proc/simpul-data").args(["user", "list"]).output().unwrap();
    assert!(fails(&out).contains("cannot create it"));
    let out = b.cmd().env("SIMPUL_LISTEN", "not-an-address").args(["serve"]).output().unwrap();
    assert!(fails(&out).to_lowercase().contains("listen"));
}

#[test]
fn the_unit_command_sets_the_office() {
    let b = Box::new();
    let out = ok(&b.run(&["unit", "--code", "51.03.02", "--name", "Kantor Kecamatan Mengwi"]));
    assert!(out.contains("serves Kantor Kecamatan Mengwi (51.03.02) as office"), "{out}");
    assert!(fails(&b.run(&["unit", "--code", "51.03", "--name", "X"])).contains("kecamatan"));
    let hub =
        b.cmd().env("SIMPUL_ROLE", "hub").args(["unit", "--code", "51.03", "--name", "Dinas Badung"]).output().unwrap();
    assert!(ok(&hub).contains("as hub"));
}
