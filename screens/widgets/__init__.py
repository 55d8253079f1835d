"""Reusable widgets that the step screens compose."""
