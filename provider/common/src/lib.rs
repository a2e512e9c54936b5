//! Shared leaf crate of offstate: the pieces both the provider and `state-scrubber` need.
//!
//! - [`secret`]: [`SecretValue`], the redacting type every secret value travels in. Its
//!   `Debug`/`Display` print a mask; the only ways out are the greppable
//!   [`SecretValue::expose_secret`] and [`SecretValue::expose_str`].
//! - [`reference`](mod@reference): the `ref+awssecrets://NAME[?version_id=ID][#/json/key]` reference strings that
//!   vals/helmfile already understand, parsed into [`SecretRef`].
//! - [`store`]: the [`SecretStore`] trait in domain words, its AWS Secrets Manager implementation
//!   ([`store::aws`], the only module that touches the AWS SDK) and an in-memory fake
//!   ([`store::memory`]) for other crates' unit tests.
//! - [`withheld`]: credentials registered to be masked in any text shown (shared with the
//!   provider's framework, one list per process).
//!
//! The invariant of the project holds here too: no type in this crate prints, serialises or puts
//! into an error the bytes of a secret value.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod name;
pub mod reference;
pub mod secret;
pub mod store;
/// Credentials never to be shown: [`withheld::withhold`] registers one, [`withheld::scrub`] masks
/// them in a text (the crate offstate-withheld, which offstate-framework re-exports too).
pub use offstate_withheld as withheld;

pub use reference::{ParseRefError, ResolveError, SecretRef};
pub use secret::{JsonSelectError, NotUtf8, SecretValue};
pub use store::{SecretStore, StoreError};
