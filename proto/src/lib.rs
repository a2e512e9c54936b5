//! Wire types for the Terraform plugin protocol 6.10 and go-plugin's helper
//! services, generated at build time from the `.proto` files in this crate.
//!
//! - [`tfplugin6`]: the `tfplugin6.Provider` service and its messages.
//! - [`plugin`]: go-plugin's `GRPCController` and `GRPCStdio` services.
//!
//! Both client and server code are generated; every server trait method has
//! a default body that answers `Unimplemented`.
//!
//! Values a user wrote (configuration, state, function arguments) travel in
//! [`tfplugin6::DynamicValue`] and [`tfplugin6::RawState`]. Their `Debug`
//! output shows only byte counts, so a stray `{:?}` on a request never
//! prints a secret.

use std::fmt;

/// Re-exported so users of the generated types (for example
/// `prost_types::Timestamp` in `OpenEphemeralResource.Response.renew_at`)
/// need no separate dependency with a matching version.
pub use prost_types;

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// The encoded `FileDescriptorSet` of every file compiled into this crate
/// (including the Google well-known types they import).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

/// The protocol version these definitions implement, as `(major, minor)`.
pub const PROTOCOL_VERSION: (u32, u32) = (6, 10);

impl fmt::Debug for tfplugin6::DynamicValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicValue")
            .field("msgpack", &Redacted(self.msgpack.len()))
            .field("json", &Redacted(self.json.len()))
            .finish()
    }
}

impl fmt::Debug for tfplugin6::RawState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawState")
            .field("json", &Redacted(self.json.len()))
            .field("flatmap", &RedactedEntries(self.flatmap.len()))
            .finish()
    }
}

/// Prints `<N bytes>` in place of a byte string.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// Prints `<N entries>` in place of a map.
struct RedactedEntries(usize);

impl fmt::Debug for RedactedEntries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} entries>", self.0)
    }
}
