"""Deployment helpers and local stand-ins for the outside world (dev and tests)."""
