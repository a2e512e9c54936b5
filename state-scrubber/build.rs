//! Compiles `../proto/planfile.proto` (our wire-compatible description of a saved plan's
//! `tfplan` member) with `protox`, a pure-Rust protobuf compiler: no system `protoc`.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    let proto = dir.join("planfile.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    println!("cargo:rerun-if-changed=build.rs");
    let fds = protox::compile([&proto], [&dir])?;
    prost_build::Config::new()
        // Every message here may carry user values (DynamicValue holds them as msgpack): no
        // derived Debug, so a `{:?}` can never print one.
        .skip_debug(["."])
        .compile_fds(fds)?;
    Ok(())
}
