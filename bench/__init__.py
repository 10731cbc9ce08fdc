"""Benchmarks: figures printed with ratios, never asserted in tests. `make bench` runs them."""
