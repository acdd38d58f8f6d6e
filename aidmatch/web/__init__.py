"""What the web edge adds to every response, whatever the domain (security headers)."""
