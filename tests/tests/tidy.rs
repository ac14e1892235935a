//! Repository rules that reviews would otherwise have to catch, read from the source tree:
//! every Rust file opens with a `//!` line saying what it is for; no `todo!()` or
//! `unimplemented!()` ships; SQL and `rusqlite` only in the store crate; no tokio, file system,
//! network or clock in the pure crates (`domain`, `sync`, the SBI crate); no HTTP framework in
//! the office use-cases; no source file over 1,000 lines outside tests; the crates depend on
//! one another only downwards, as ARCHITECTURE.md draws them; and no module imports another
//! that imports it back.
//!
//! Test code is left out of the content rules (a test may stage a database state with SQL): the
//! `tests/` folders, `tests.rs` files and what follows a top-level `#[cfg(test)]`.

use std::path::{Path, PathBuf};

/// Longest source file allowed outside tests.
const MAX_LINES: usize = 1000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".git" | "tools") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// A source file as the rules see it: its path from the repository root, with `/`.
struct Source {
    path: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .map(|file| Source {
            path: file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"),
            text: std::fs::read_to_string(&file).unwrap(),
        })
        .collect()
}

/// Whether a path is test code as a whole.
fn is_test_file(path: &str) -> bool {
    path.starts_with("tests/") || path.contains("/tests/") || path.ends_with("/tests.rs") || path.contains("/fuzz/")
}

/// The lines of non-test code: everything before a top-level `#[cfg(test)]`, comments removed.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            // A `//` inside a string ("https://...") is not a comment.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        };
        out.push((i + 1, code.to_string()));
    }
    out
}

/// SQL a line of code carries (as statement text in a string).
fn sql_in(code: &str) -> Option<&'static str> {
    const STATEMENTS: [&str; 9] = [
        "SELECT ",
        "INSERT INTO",
        "INSERT OR ",
        "UPDATE ",
        "DELETE FROM",
        "CREATE TABLE",
        "CREATE INDEX",
        "PRAGMA ",
        "VACUUM",
    ];
    if !code.contains('"') {
        return None;
    }
    let quoted: String = code.split('"').skip(1).step_by(2).collect::<Vec<_>>().join(" ");
    STATEMENTS.into_iter().find(|s| quoted.contains(s))
}

/// What a file in the pure crates must not name.
const IMPURE: [&str; 10] = [
    "tokio",
    "std::fs",
    "std::net",
    "std::process",
    "SystemTime",
    "Instant::now",
    "now_utc",
    "OffsetDateTime::now",
    "reqwest",
    "rusqlite",
];

/// The rules a file's content breaks, one line each.
fn content_problems(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    if !first.starts_with("//!") {
        problems.push(format!("{path}: does not open with a //! line"));
    }
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        if code.contains(concat!("todo", "!(")) || code.contains(concat!("unimplemented", "!(")) {
            problems.push(format!("{path}:{}: unfinished code", n + 1));
        }
    }
    if is_test_file(path) {
        return problems;
    }
    let lines = text.lines().count();
    if lines > MAX_LINES {
        problems.push(format!("{path}: {lines} lines, more than {MAX_LINES}: give it rooms"));
    }
    let in_store = path.starts_with("server/store/");
    let pure = ["domain/src/", "sync/src/", "hardware/sbi/src/"].iter().any(|p| path.starts_with(p));
    let office = path.starts_with("server/src/office/");
    for (n, code) in code_lines(text) {
        if !in_store {
            if code.contains("rusqlite") && !code.contains("tower_sessions_rusqlite_store") {
                problems.push(format!("{path}:{n}: names rusqlite outside the store crate"));
            }
            if let Some(statement) = sql_in(&code) {
                problems.push(format!("{path}:{n}: SQL ({}) outside the store crate", statement.trim()));
            }
        }
        if pure && let Some(word) = IMPURE.iter().find(|w| code.contains(**w)) {
            problems.push(format!("{path}:{n}: `{word}` in a pure crate (no I/O, no clock)"));
        }
        if office && code.contains("axum") {
            problems.push(format!("{path}:{n}: axum in the office use-cases"));
        }
    }
    problems
}

#[test]
fn every_source_file_keeps_the_repository_rules() {
    let sources = sources();
    assert!(sources.len() > 100, "found only {} files", sources.len());
    let problems: Vec<String> = sources.iter().flat_map(|s| content_problems(&s.path, &s.text)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The workspace crates each crate may depend on (normal dependencies), from ARCHITECTURE.md.
const ALLOWED: [(&str, &[&str]); 12] = [
    ("domain", &[]),
    ("hardware/sbi", &[]),
    ("sync", &["simpul-domain"]),
    ("hardware", &["simpul-domain", "simpul-sbi"]),
    ("devsim", &["simpul-domain"]),
    ("server/store", &["simpul-domain", "simpul-sync"]),
    ("installer", &["simpul-domain", "simpul-sync", "simpul-store"]),
    ("app", &["simpul-domain", "simpul-sbi"]),
    ("app/wasm", &["simpul-app"]),
    ("server/assets", &[]),
    ("server/bin", &["simpul-server", "simpul-assets"]),
    (
        "server",
        &[
            "simpul-domain",
            "simpul-sbi",
            "simpul-sync",
            "simpul-store",
            "simpul-hardware",
            "simpul-devsim",
            "simpul-installer",
            "simpul-app",
        ],
    ),
];

/// The workspace crates a manifest lists under `[dependencies]` (dev-dependencies are free).
fn workspace_dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("simpul-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            deps.push(name.to_string());
        }
    }
    deps
}

#[test]
fn crates_depend_only_downwards() {
    let mut problems = Vec::new();
    for (dir, allowed) in ALLOWED {
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        for dep in workspace_dependencies(&manifest) {
            if !allowed.contains(&dep.as_str()) {
                problems.push(format!("{dir} depends on {dep}, which ARCHITECTURE.md does not let it"));
            }
        }
    }
    // Every crate of the workspace is in the table.
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = workspace.lines().find(|l| l.starts_with("members")).unwrap();
    for member in members.split('"').skip(1).step_by(2) {
        if member != "tests" && !ALLOWED.iter().any(|(dir, _)| *dir == member) {
            problems.push(format!("{member} is a workspace crate missing from the dependency rules"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The source folders whose modules must not import one another in a circle.
const CRATE_SOURCES: [&str; 11] = [
    "domain/src",
    "sync/src",
    "hardware/src",
    "hardware/sbi/src",
    "devsim/src",
    "installer/src",
    "app/src",
    "server/store/src",
    "server/src",
    "server/assets/src",
    "tests/src",
];

/// A module's path (`sync::client`) from its file under a crate's source folder; `None` for test
/// files.
fn module_of(relative: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = relative.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    if parts.last().is_some_and(|p| p == "tests") || parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    Some(parts)
}

/// The modules each module of one crate imports: `crate::`, `super::` and `self::` paths (the
/// longest prefix that is a module), a `use super::*`, and a `mod.rs` importing its children.
fn module_imports(files: &[(Vec<String>, bool, String)]) -> Vec<(String, Vec<String>)> {
    let known: Vec<Vec<String>> = files.iter().map(|(m, _, _)| m.clone()).collect();
    let resolve = |path: Vec<String>| -> Option<String> {
        (1..=path.len()).rev().map(|n| &path[..n]).find(|p| known.iter().any(|k| k == p)).map(|p| p.join("::"))
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (module, is_mod_file, text) in files {
        let name = module.join("::");
        let code: String = code_lines(text).into_iter().map(|(_, l)| l + "\n").collect();
        let mut deps = Vec::new();
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", module[..module.len().saturating_sub(1)].to_vec()),
            ("self::", module.clone()),
        ] {
            for (at, _) in code.match_indices(prefix) {
                if at > 0 && code[..at].ends_with(|c: char| word(c) || c == ':') {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let path: Vec<String> = rest
                    .split(|c: char| !(word(c) || c == ':'))
                    .next()
                    .unwrap_or_default()
                    .split("::")
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                if prefix == "super::" && rest.starts_with('*') && !module.is_empty() {
                    deps.push(base.join("::"));
                }
                if let Some(d) = resolve([base.clone(), path].concat()) {
                    deps.push(d);
                }
            }
        }
        if *is_mod_file {
            for line in code.lines() {
                let line = line.trim_start().trim_start_matches("pub ");
                if let Some(rest) = line.strip_prefix("use ") {
                    let child = rest.split("::").next().unwrap_or_default();
                    if let Some(d) = resolve([module.clone(), vec![child.to_string()]].concat()) {
                        deps.push(d);
                    }
                }
            }
        }
        deps.retain(|d| *d != name && !d.is_empty());
        deps.sort();
        deps.dedup();
        out.push((name, deps));
    }
    out
}

/// A circle in an import graph, if there is one.
fn circle(graph: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &[(String, Vec<String>)],
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some(path[at..].to_vec());
        }
        if done.iter().any(|d| d == node) {
            return None;
        }
        path.push(node.to_string());
        let next = graph.iter().find(|(n, _)| n == node).map(|(_, d)| d.clone()).unwrap_or_default();
        for d in next {
            if let Some(found) = visit(&d, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.push(node.to_string());
        None
    }
    let mut done = Vec::new();
    graph.iter().find_map(|(n, _)| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let mut problems = Vec::new();
    for dir in CRATE_SOURCES {
        let root = root().join(dir);
        let mut paths = Vec::new();
        rust_files(&root, &mut paths);
        let files: Vec<(Vec<String>, bool, String)> = paths
            .iter()
            .filter_map(|p| {
                let relative = p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                let is_mod_file = ["mod.rs", "lib.rs", "main.rs"].iter().any(|f| relative.ends_with(f));
                Some((module_of(&relative)?, is_mod_file, std::fs::read_to_string(p).unwrap()))
            })
            .collect();
        if let Some(found) = circle(&module_imports(&files)) {
            problems.push(format!("{dir}: {}", found.join(" -> ")));
        }
    }
    assert!(problems.is_empty(), "modules that import one another in a circle:\n{}", problems.join("\n"));
}

// The rules themselves, on made-up files: each catches what it names and passes what it allows.

#[test]
fn the_rules_catch_what_they_name() {
    let ok = "//! A file.\n\nfn f() {}\n";
    assert!(content_problems("server/src/office/x.rs", ok).is_empty());
    assert_eq!(content_problems("server/src/x.rs", "fn f() {}\n").len(), 1, "no //! line");
    let sql = "//! A file.\nfn f(c: &C) { c.execute(\"UPDATE t SET a = 1\", []); }\n";
    assert!(content_problems("server/src/office/x.rs", sql)[0].contains("SQL (UPDATE)"));
    assert!(content_problems("server/store/src/x.rs", sql).is_empty(), "the store may");
    assert!(content_problems("server/tests/x.rs", sql).is_empty(), "a test may");
    let staged = format!("{ok}#[cfg(test)]\nmod tests {{ const Q: &str = \"SELECT 1\"; }}\n");
    assert!(content_problems("server/src/x.rs", &staged).is_empty(), "a unit test may");
    let named = "//! A file.\nuse rusqlite::Connection;\n";
    assert!(content_problems("app/src/x.rs", named)[0].contains("rusqlite"));
    let clock = "//! A file.\nfn now() -> T { OffsetDateTime::now_utc() }\n";
    assert!(content_problems("sync/src/x.rs", clock)[0].contains("pure crate"));
    assert!(content_problems("server/src/x.rs", clock).is_empty());
    let web = "//! A file.\nuse axum::Router;\n";
    assert!(content_problems("server/src/office/x.rs", web)[0].contains("axum"));
    let comment = "//! A file.\n// SELECT in a comment, https://example.org\nfn f() {}\n";
    assert!(content_problems("server/src/office/x.rs", comment).is_empty());
    let long = format!("//! A file.\n{}", "fn f() {}\n".repeat(MAX_LINES));
    assert!(content_problems("server/src/x.rs", &long)[0].contains("more than"));
    assert!(content_problems("tests/tests/x.rs", &long).is_empty());
    let unfinished = format!("//! A file.\nfn f() {{ {}) }}\n", concat!("todo", "!("));
    assert!(content_problems("server/src/x.rs", &unfinished)[0].contains("unfinished"));
}

#[test]
fn a_circle_of_imports_is_found() {
    let file = |m: &str, is_mod: bool, text: &str| {
        (m.split("::").filter(|p| !p.is_empty()).map(str::to_string).collect::<Vec<_>>(), is_mod, text.to_string())
    };
    let calm = [
        file("", true, "//! Root.\nmod a;\nmod b;\n"),
        file("a", false, "//! A.\nuse crate::b::thing;\n"),
        file("b", false, "//! B.\npub fn thing() {}\n"),
    ];
    assert_eq!(circle(&module_imports(&calm)), None);
    let circular = [calm[0].clone(), calm[1].clone(), file("b", false, "//! B.\nuse crate::a::other;\n")];
    assert!(circle(&module_imports(&circular)).is_some());
    // A parent that imports its child, which globs the parent back.
    let glob = [
        file("", true, "//! Root.\nmod a;\n"),
        file("a", true, "//! A.\nmod child;\nuse child::f;\n"),
        file("a::child", false, "//! Child.\nuse super::*;\n"),
    ];
    assert!(circle(&module_imports(&glob)).is_some());
    // A use in a test module does not count.
    let tested = [
        calm[0].clone(),
        calm[1].clone(),
        file("b", false, "//! B.\n#[cfg(test)]\nmod tests {\n    use crate::a::x;\n}\n"),
    ];
    assert_eq!(circle(&module_imports(&tested)), None);
}

#[test]
fn dependencies_are_read_from_the_dependencies_table_only() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\nsimpul-domain.workspace = true\nsimpul-sync = { workspace = true }\nserde = \"1\"\n[dev-dependencies]\nsimpul-tests.workspace = true\n";
    assert_eq!(workspace_dependencies(manifest), ["simpul-domain", "simpul-sync"]);
}
