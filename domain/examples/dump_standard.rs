//! Prints what the importer reads from standard files: `cargo run -p simpul-domain --example dump_standard FILE...`.

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        match simpul_domain::catalog::import_standard(&bytes) {
            Ok(imported) => {
                println!("== {path}\n{:#?}", imported.standard);
                for w in imported.warnings {
                    println!("warning: {w}");
                }
            }
            Err(e) => println!("== {path}\nerror: {e}"),
        }
    }
}
