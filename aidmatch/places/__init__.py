"""Places: the gazetteer shipped with aidmatch (data file, loader, search, autocomplete)."""
