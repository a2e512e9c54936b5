//! Reads one artifact (state v4/v3, `terraform show -json` of a state or plan, backend cache,
//! OpenTofu-encrypted state) in one pass and turns its values into findings.
//!
//! The top level is streamed; each unit (one resource, one resource change, the outputs, the
//! configuration) is parsed into a small tree, analysed and dropped.
//!
//! Parts: `kind` (what a file is), `error`, `scanner` (the [`Scanner`] and its threads),
//! `stream` (the streamed top level), `readings` (keys that occur more than once),
//! `findings` (detections to findings), `address`, `values` (the value walk), `state`,
//! `backend`, `show` (`show -json` resources and plan changes), `outputs` (outputs and
//! variables), `text` (free text), `configuration` (a plan's configuration), `sites` and
//! `same_value` (values equal to a secret found elsewhere), `identities` (`terraform state
//! identities -json`), `marks` (sensitivity marks),
//! `walk` (tree walkers), `wrapper` (setup-terraform's wrapper output), `ui` (the
//! machine-readable UI of `terraform plan|apply|query|test -json`).

mod address;
mod backend;
mod configuration;
mod english;
mod error;
mod findings;
mod identities;
mod kind;
mod marks;
mod outputs;
mod readings;
mod same_value;
mod scanner;
mod show;
mod sites;
mod state;
mod stream;
#[cfg(test)]
mod tests;
mod text;
mod ui;
mod values;
mod walk;
mod wrapper;

/// A JSON pointer as errors show it (scrub's restore warnings too): keys that could be a secret
/// by their length.
pub(crate) use error::ptr as shown_pointer;
pub use error::DocError;
pub(crate) use findings::is_id_attribute;
pub use kind::{has_terraform_markers, is_output_document, DocKind, OtherDocument};
pub use marks::Marks;
pub use outputs::{MODULE_OUTPUT_FIX, OUTPUT_FIX, VARIABLE_FIX};
pub use readings::MAX_READINGS;
pub use same_value::SAME_VALUE_RULE;
pub use scanner::{Scanned, Scanner};
pub use state::PRIVATE_FIX;
pub use text::CHECK_FIX;
pub use ui::is_ui_stream;
pub use walk::is_dynamic_value;
