//! Makes sure the embedded site folder exists (rust-embed needs it at compile time) and that the
//! binary is rebuilt when the site changes. The site itself is built by scripts/build-site.sh.

fn main() {
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/site/pkg");
    if !site.join("simpul.js").exists() {
        println!(
            "cargo:warning=UI bundle not found in target/site/pkg: run scripts/build-site.sh first, \
             or pages will render without interactivity"
        );
    }
    if let Err(e) = std::fs::create_dir_all(&site) {
        println!("cargo:warning=cannot create {}: {e}", site.display());
    }
    println!("cargo:rerun-if-changed=../../target/site");
    println!("cargo:rerun-if-changed=build.rs");
}
