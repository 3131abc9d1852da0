"""PostgreSQL access: the embedded server's lifecycle, connections and per-run schemas."""
