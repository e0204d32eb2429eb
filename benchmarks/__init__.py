"""Synthetic data generator and store benchmarks for conflict-kb."""
