"""REST API at /api/v0.2/."""
