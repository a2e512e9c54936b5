//! How the provider binary is linked on Linux.
//!
//! Position-dependent: a PIE binary of this size carries ~1.2 MB of dynamic relocations that the
//! loader applies at every start, dirtying ~0.7 MB of `.data.rel.ro`; Terraform starts the
//! provider several times per command. Without PIE those addresses are fixed at link time and the
//! pages stay clean, shared and mostly unread. (The objects are still position-independent; only
//! the final link changes.)
//!
//! Hot functions first: on x86_64 with rustc's own lld (the default linker there since Rust
//! 1.90), `symbol-order.txt` lists the functions a provider process runs, and lld lays them out
//! together at the start of `.text`, so a process maps fewer pages of code (made and explained by
//! `tools/symbol-order`). Skipped where another linker may be in use (an older rustc, a linker set
//! in the environment or in RUSTFLAGS), and with `OFFSTATE_NO_SYMBOL_ORDER=1`. Names the binary
//! lacks are ignored, so a stale file costs speed, never correctness.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=symbol-order.txt");
    println!("cargo:rerun-if-env-changed=OFFSTATE_NO_SYMBOL_ORDER");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");

    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
    let rustflags = var("CARGO_ENCODED_RUSTFLAGS");
    let other_linker = !var("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_empty()
        || rustflags.contains("linker")
        || rustflags.contains("fuse-ld");
    if var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && order.is_file()
        && var("OFFSTATE_NO_SYMBOL_ORDER").is_empty()
        && !other_linker
        && rustc_minor().is_some_and(|minor| minor >= 90)
    {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// The minor version of the rustc building this (`rustc 1.95.0 (...)` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}
