"""Acquire: record running processes into bundles, stream them live, follow growing maps."""
