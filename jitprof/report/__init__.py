"""Plain reports: a Profile or a comparison as a text table, JSON or CSV."""
