"""Tests of the notifications service and the SMTP sink."""
