// The build id shared by the `retain` binary (build.rs) and the Python module
// (crates/retain-py/build.rs), included by both: the first 16 hex digits of the SHA-256 of
// every Rust source file and manifest of the workspace (relative path and contents, in path
// order). No git needed; the same source gives the same id on any machine, so a model card
// says which source trained it whichever way retain was called.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else if name.ends_with(".rs") || name == "Cargo.toml" || name == "Cargo.lock" {
            out.push(p);
        }
    }
}

/// Prints `RETAIN_BUILD_ID` for the workspace at `root`, and what reruns the build script.
fn emit_build_id(root: &Path) {
    let mut files = Vec::new();
    for sub in ["crates", "src"] {
        walk(&root.join(sub), &mut files);
        println!("cargo:rerun-if-changed={}", root.join(sub).display());
    }
    for f in ["Cargo.toml", "Cargo.lock"] {
        files.push(root.join(f));
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let mut rel: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|p| {
            let r = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            (r, p)
        })
        .collect();
    rel.sort();
    let mut h = Sha256::new();
    for (r, p) in &rel {
        h.update(r.as_bytes());
        h.update([0]);
        if let Ok(bytes) = std::fs::read(p) {
            h.update(&bytes);
        }
        h.update([0]);
    }
    let id: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=RETAIN_BUILD_ID={id}");
}
