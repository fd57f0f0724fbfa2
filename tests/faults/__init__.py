"""Fault tests: concurrent transitions, broker outages, crashed workers (issue 16)."""
