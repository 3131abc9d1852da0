"""`veracity bisect`: the first commit at which a benchmark got worse, found by paired, noise-aware probes."""
