"""Django's cached template loader, which also notices a template edited on disk.

Admins customise templates on a running lab; the stock cached loader would
keep the old ones until the web application restarts. One ``stat`` per
template rendered is all this costs.
"""

import os

from django.template.loaders import cached


class FreshCachedLoader(cached.Loader):
    def __init__(self, engine, loaders):
        super().__init__(engine, loaders)
        self.mtimes: dict[str, float] = {}

    def get_template(self, template_name, skip=None):
        template = super().get_template(template_name, skip)
        path = template.origin.name
        try:
            mtime = os.stat(path).st_mtime
        except (OSError, TypeError):
            return template
        seen = self.mtimes.setdefault(path, mtime)
        if seen != mtime:
            self.reset()
            self.mtimes = {path: mtime}
            template = super().get_template(template_name, skip)
        return template
