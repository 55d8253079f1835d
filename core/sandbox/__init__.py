"""The embedded sandbox AWS: moto's server plus our emulation of what moto lacks."""
