"""The shop's common kit: config, database, messaging, HTTP and logging plumbing.

Every service builds on these pieces; none of them is copied into a service.
"""
