"""The model catalog: the customizable base models, their limits, prices and lifecycle."""
