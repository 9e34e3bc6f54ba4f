//! Builds the scorer WebAssembly module (scorer-wasm for wasm32-unknown-unknown,
//! without wasm-bindgen: zero imports) and hands it to the crate, which embeds
//! it with `include_bytes!`. Nothing prebuilt is committed or downloaded.
//!
//! The inner build uses its own target directory (`target/wasm-embed`) so it
//! never waits on the outer build's lock. `RISKSCORE_WASM=path` embeds an
//! already-built module instead.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("scorer.wasm");
    println!("cargo:rerun-if-env-changed=RISKSCORE_WASM");
    for p in [
        "scorer-core/src",
        "scorer-core/Cargo.toml",
        "scorer-wasm/src",
        "scorer-wasm/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    if let Ok(prebuilt) = std::env::var("RISKSCORE_WASM") {
        println!("cargo:rerun-if-changed={prebuilt}");
        std::fs::copy(&prebuilt, &out).unwrap_or_else(|e| panic!("RISKSCORE_WASM={prebuilt}: {e}"));
        return;
    }
    let target_dir = root.join("target/wasm-embed");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--locked",
            "-p",
            "scorer-wasm",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
            "--target-dir",
        ])
        .arg(&target_dir)
        // Flags and wrappers meant for the host build (clippy, coverage) do not apply to the guest.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cannot run cargo to build the scorer wasm module");
    if !status.success() {
        panic!(
            "building scorer-wasm for wasm32-unknown-unknown failed (its cargo output is above); \
             the target is installed with `rustup target add wasm32-unknown-unknown`"
        );
    }
    let built = target_dir.join("wasm32-unknown-unknown/release/scorer_wasm.wasm");
    std::fs::copy(&built, &out).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
}
