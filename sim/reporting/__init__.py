"""Charts and briefings built from tidy result tables (never from engine internals)."""
