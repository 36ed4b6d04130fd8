"""spacetime.cli."""
