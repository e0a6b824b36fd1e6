//! Support for tachometer's integration tests: a parser for the Prometheus text format
//! that reads exposition text back into samples.
