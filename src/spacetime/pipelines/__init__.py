"""spacetime.pipelines."""
