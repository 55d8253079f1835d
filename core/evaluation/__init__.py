"""Evaluation: held-out records through the tuned and the base model, scored."""
