//! No code: a dependency of every workspace member that fixes the features of some shared
//! dependencies, so that all cargo commands build them alike (see Cargo.toml).
