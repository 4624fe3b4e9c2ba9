"""Colour hints: the network's hint input, the training simulator, a person's hints, the local edit."""
