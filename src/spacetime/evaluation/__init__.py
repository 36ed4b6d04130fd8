"""spacetime.evaluation."""
