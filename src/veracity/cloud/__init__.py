"""`veracity cloud run`: asv runs of many commits fanned out over shards (Modal GPUs or local processes), merged."""
