"""Serving a tuned model and talking to it: deployments, Converse."""
