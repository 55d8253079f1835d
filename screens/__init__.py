"""One module per wizard step. A screen composes widgets, runs core/ in workers, shows results."""
