"""Training jobs: launch, watch, metrics and failures explained."""
