"""Benchmarks, each a module runnable on its own: `python -m bench.exports`."""
