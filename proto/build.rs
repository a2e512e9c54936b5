//! Compiles the .proto files in this directory with `protox` (a pure-Rust
//! protobuf compiler) and generates prost messages plus tonic clients and
//! servers from the resulting descriptor set. No system `protoc` is used.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "tfplugin6.proto",
    "grpc_controller.proto",
    "grpc_stdio.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let fds = protox::compile(PROTOS, ["."])?;

    // Keep the descriptor set: tests check field numbers against it, and it
    // can serve gRPC reflection later.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Every RPC gets a default body returning `Unimplemented`, so an
        // implementation only writes the calls it supports and a newer
        // protocol revision never breaks it.
        .generate_default_stubs(true)
        // These carry user values (configuration, state, function
        // arguments); their Debug impls are written by hand in lib.rs to
        // print sizes only.
        .skip_debug(["tfplugin6.DynamicValue", "tfplugin6.RawState"])
        .compile_fds(fds)?;
    Ok(())
}
