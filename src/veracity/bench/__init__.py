"""`veracity bench` (make bench): asv over recent commits, with one database and one machine record for the run."""
