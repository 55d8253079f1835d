"""Benchmarks (not tests): each prints its figures as ratios against a baseline run alongside."""
