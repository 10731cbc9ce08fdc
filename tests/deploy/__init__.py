"""Tests of the deploy kit: the nginx gateway and the sandbox courier."""
