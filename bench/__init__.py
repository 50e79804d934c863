"""Benchmarks: a dataset generator and the scripts that measure against it (see README.md)."""
