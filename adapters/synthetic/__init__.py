"""Offline, seeded market data: every frame it makes is labelled synthetic."""
