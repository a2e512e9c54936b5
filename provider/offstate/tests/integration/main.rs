//! terraform-provider-offstate's integration tests, one binary (STYLE.md): in-process over the
//! tfplugin6 service with the in-memory store, one module per topic.

mod action;
mod hostile;
mod interrupted_create;
mod planted;
mod service;
