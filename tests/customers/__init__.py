"""Tests of the customers service."""
