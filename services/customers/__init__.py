"""The customers service: identity, the personal-data vault, consents, releases and audit."""
