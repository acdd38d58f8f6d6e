"""Pages above every domain: home (what needs my attention), health check, language switch,
the audit log, and the spreadsheet import and export of needs and offers."""
