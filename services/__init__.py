"""The four services of the shop."""
