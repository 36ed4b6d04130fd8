"""spacetime.video."""
