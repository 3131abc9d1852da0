"""What asv lacks: direction-aware regression detection, noise bands, reports, fingerprints, fan-out."""
