"""Synchronous REST channel for integrators (the institute's website or app, test tools)."""
