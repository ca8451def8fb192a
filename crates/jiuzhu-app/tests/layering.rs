//! The layering of the workspace, enforced (ARCHITECTURE.md, "Where code goes"):
//!
//! 1. the pure crates do no I/O: no database, runtime or HTTP crate among their dependencies, and
//!    no file, network or wall-clock access in their sources (the system clock is the one
//!    exception, behind the `Clock` trait);
//! 2. the store is persistence only: it depends on no engine (workflow, verify, policy), no
//!    file-format reader and nothing above it;
//! 3. the web crate is HTTP only: it reaches the store and the file readers through
//!    `jiuzhu-app` (never `jiuzhu_store::`, `state.store` or `app.store()` in its sources);
//! 4. in the binary, only the `serve` path uses the web crate;
//! 5. the `dibao` benchmark is a pure benchmark of the policy engine;
//! 6. the benchmark's thresholds in code (`VerifyPolicy::bench_default`) serve tests only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const PURE: &[&str] = &[
    "jiuzhu-domain",
    "jiuzhu-policy",
    "jiuzhu-workflow",
    "jiuzhu-verify",
    "jiuzhu-sheet",
];
const IO_CRATES: &[&str] = &[
    "sqlx",
    "tokio",
    "axum",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
    "reqwest",
];
const NOT_UNDER_STORE: &[&str] = &[
    "jiuzhu-workflow",
    "jiuzhu-verify",
    "jiuzhu-policy",
    "jiuzhu-import",
    "jiuzhu-sheet",
    "jiuzhu-app",
    "jiuzhu-web",
];
/// The web reaches persistence and the file readers only through the use-cases. It may use the
/// pure crates' types and functions (a label, a month, an explanation) and the printer.
const NOT_UNDER_WEB: &[&str] = &["jiuzhu-store", "jiuzhu-import"];
/// Wall clock, files and network in sources of pure crates.
const IO_CALLS: &[&str] = &["std::fs", "std::net", "Utc::now", "SystemTime", "tokio::"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Each workspace crate's normal (not dev, not build) dependencies.
fn normal_dependencies() -> Vec<(String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("name").to_string())
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

/// The `.rs` files under `dir`, with their text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("source file");
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every violation of the six rules, as sentences.
fn violations() -> BTreeSet<String> {
    let root = workspace();
    let crates = root.join("crates");
    let mut found = BTreeSet::new();
    for (name, deps) in normal_dependencies() {
        if PURE.contains(&name.as_str()) {
            for d in deps.iter().filter(|d| IO_CRATES.contains(&d.as_str())) {
                found.insert(format!("pure crate {name} depends on {d}"));
            }
        }
        let (who, banned) = match name.as_str() {
            "jiuzhu-store" => ("store", NOT_UNDER_STORE),
            "jiuzhu-web" => ("web", NOT_UNDER_WEB),
            _ => continue,
        };
        for d in deps.iter().filter(|d| banned.contains(&d.as_str())) {
            found.insert(format!("{who} depends on {d}"));
        }
    }
    for pure in PURE {
        for (path, text) in sources(&crates.join(pure).join("src")) {
            let rel = path.strip_prefix(&crates).unwrap().display().to_string();
            // The system clock behind the Clock trait; the sheet's test helpers (feature-gated).
            if rel == "jiuzhu-domain/src/clock.rs" || rel == "jiuzhu-sheet/src/testing.rs" {
                continue;
            }
            for call in IO_CALLS.iter().filter(|c| text.contains(*c)) {
                found.insert(format!("pure source {rel} uses {call}"));
            }
        }
    }
    for (path, text) in sources(&crates.join("jiuzhu-web/src")) {
        // By name, or through the state's (transitional) handle or the application's.
        let reaches_store = ["jiuzhu_store::", "state.store", "app.store()"]
            .iter()
            .any(|s| text.contains(s));
        if reaches_store {
            found.insert(format!("web source uses the store: {}", file_name(&path)));
        }
    }
    for (path, text) in sources(&crates.join("jiuzhu/src")) {
        if text.contains("jiuzhu_web::") && file_name(&path) != "cmd_serve.rs" {
            found.insert(format!(
                "binary uses the web crate outside serve: {}",
                file_name(&path)
            ));
        }
    }
    let dibao = std::fs::read_to_string(crates.join("jiuzhu-bench/src/dibao.rs"))
        .expect("the dibao benchmark");
    for banned in ["jiuzhu_app", "jiuzhu_store"] {
        if dibao.contains(banned) {
            found.insert(format!("the dibao benchmark uses {banned}"));
        }
    }
    for (path, text) in sources(&crates) {
        let rel = path.strip_prefix(&crates).unwrap().display().to_string();
        let in_src = rel.contains("/src/") && !rel.starts_with("jiuzhu-fuzz/");
        if in_src && rel != "jiuzhu-verify/src/rules.rs" && text.contains("bench_default") {
            found.insert(format!("bench_default outside tests: {rel}"));
        }
    }
    let rules = std::fs::read_to_string(crates.join("jiuzhu-verify/src/rules.rs")).unwrap();
    let gated = rules
        .split("pub fn bench_default")
        .next()
        .and_then(|before| before.lines().rev().take(4).find(|l| l.contains("#[cfg(")))
        .is_some_and(|l| l.contains("feature = \"testing\""));
    if !gated {
        found.insert("bench_default not gated to tests".into());
    }
    found
}

#[test]
fn the_layers_hold() {
    let found = violations();
    assert!(
        found.is_empty(),
        "layering violations (move the code where it belongs, ARCHITECTURE.md): {found:#?}"
    );
}
