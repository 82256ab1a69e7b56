"""Users' API tokens."""
