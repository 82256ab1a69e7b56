"""Named result queries (``results.run_query``) and the ad-hoc condition language they share."""
