"""Present: view models of a Profile or a comparison (rows, trees, flame layout, time axis)."""
