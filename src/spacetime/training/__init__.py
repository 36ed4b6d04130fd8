"""spacetime.training."""
