//! Computes RETAIN_BUILD_ID for the binary (build_id.rs).

include!("build_id.rs");

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    emit_build_id(&root);
}
