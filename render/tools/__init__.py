"""Tools around finished renders: benchmarks, quality checks, metrics, contact sheets, galleries, listings, sweeps."""
