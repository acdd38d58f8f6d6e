"""The map of needs and offers (issue 6): markers at the public points only."""
