//! Computes RETAIN_BUILD_ID for the Python module: the binary's id of the same source
//! (the workspace's build_id.rs).

include!("../../build_id.rs");

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = dir.join("../..");
    let root = root.canonicalize().unwrap_or(root);
    println!(
        "cargo:rerun-if-changed={}",
        root.join("build_id.rs").display()
    );
    emit_build_id(&root);
}
