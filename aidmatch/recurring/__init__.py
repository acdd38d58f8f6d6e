"""Recurring offers: an offer that repeats per week or per month (DESIGN: offers that repeat).
Each period is an offer of its own (the series' first one, or a copy of the latest), so
claims, requests, runs and instant candidates see it like any other."""
