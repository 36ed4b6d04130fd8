"""spacetime.diffusion."""
