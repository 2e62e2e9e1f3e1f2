"""The read-only JSON API under /api/v1/, authenticated with per-user bearer tokens."""
