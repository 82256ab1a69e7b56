"""The web application of a lab without apache (``./lab.sh``): static files and ``/ws/`` in front of it.

gunicorn loads ``lava_server.wsgi_lab:application``; the packaged lab keeps
``lava_server.wsgi`` behind apache, which serves ``/static/`` itself and
relays ``/ws/`` to lava-publisher.
"""

from pathlib import Path

from django.conf import settings

from lava_server.static_files import StaticFiles
from lava_server.websocket_relay import WebsocketRelay
from lava_server.wsgi import application as django_application

application = WebsocketRelay(StaticFiles(django_application, Path(settings.STATIC_ROOT), settings.STATIC_URL),
                             settings.EVENT_WEBSOCKET)
