"""The dataset validator, its rules and the fix-ups."""
