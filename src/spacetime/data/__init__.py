"""spacetime.data."""
