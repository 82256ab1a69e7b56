import gc
import os

from django.core.wsgi import get_wsgi_application

from lava_common.file_modes import restrict_umask

# gunicorn leaves the umask as it found it: job logs and files written here are the lab's only
restrict_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
_django = get_wsgi_application()
# imported once Django is set up: the XML-RPC modules import models
from lava_server.xmlrpc.wsgi import XmlRpcFastPath  # noqa: E402

application = XmlRpcFastPath(_django)

# Django's start-up objects live as long as the worker: out of the collector's sight, a collection
# no longer walks them (about a tenth of an API call's CPU went to that)
gc.collect()
gc.freeze()
