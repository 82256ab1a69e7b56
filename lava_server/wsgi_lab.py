"""The web application of a lab without apache (``./lab.sh``): static files served in front of it.

gunicorn loads ``lava_server.wsgi_lab:application``; the packaged lab keeps
``lava_server.wsgi`` behind apache, which serves ``/static/`` itself.
"""

from pathlib import Path

from django.conf import settings

from lava_server.static_files import StaticFiles
from lava_server.wsgi import application as django_application

application = StaticFiles(django_application, Path(settings.STATIC_ROOT), settings.STATIC_URL)
