"""Benchmarks: `python -m bench.<name>` prints measurements; timings live here, never in test asserts."""
