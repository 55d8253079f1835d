"""The bucket and the service roles: planned, shown, made, verified."""
