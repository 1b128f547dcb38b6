"""Benchmarks of the statistics command (run as ``python -m bench.run``)."""
