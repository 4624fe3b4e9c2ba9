"""Training: configuration, data sources, the loop, callbacks, losses, export."""
