//! Criterion benchmarks of tachometer beside the alternatives; see `benches/`.
