"""The Django project: settings, URLs, web UI, APIs, admin commands."""
