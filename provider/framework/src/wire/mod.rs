//! The wall between the protocol and the framework: prost/tonic types stop
//! here. `convert` maps messages to domain types; `service` implements the
//! `tfplugin6.Provider` RPCs on top of [`crate::Provider`].

mod convert;
mod service;

pub use service::ProviderService;
