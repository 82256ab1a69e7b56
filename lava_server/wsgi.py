import os

from django.core.wsgi import get_wsgi_application

from lava_common.file_modes import restrict_umask

# gunicorn leaves the umask as it found it: job logs and files written here are the lab's only
restrict_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
application = get_wsgi_application()
