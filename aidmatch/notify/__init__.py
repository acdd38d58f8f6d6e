"""Telling people what happens: the notification outbox, its deliveries, preferences."""
