"""The web layer's mechanisms: the API kit and its schemas, errors, static files, languages
and words, drafts, security headers, and the pages that belong to no domain (home, health)."""
