"""Analysis: finished Profiles compared (functions paired, deltas, verdicts) and the statistics."""
