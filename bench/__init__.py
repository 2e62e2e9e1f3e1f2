"""Benchmarks (not tests) and the data they run on; see docs/PERFORMANCE.md."""
