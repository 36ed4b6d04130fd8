"""spacetime.models."""
