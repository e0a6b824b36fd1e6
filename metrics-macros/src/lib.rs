//! Procedural macros of tachometer. Use them through the `tachometer` crate, which re-exports them.
