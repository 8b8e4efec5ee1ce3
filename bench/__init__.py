"""Benchmarks, each a module runnable on its own (`python -m bench` at national scale, `bench.upload`,
`bench.exports`, `bench.maps`):
they print measurements; timings live here, never in test asserts."""
