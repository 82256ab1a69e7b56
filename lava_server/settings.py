"""Django settings, built from the lab's settings file and the environment.

The file is ``/etc/lava-server/settings.yaml`` (or ``$LAVA_SETTINGS``); any key
of ``DEFAULTS`` below may be set there, and overridden again by an environment
variable ``LAVA_<KEY>`` whose value is read as YAML (``LAVA_DEBUG=true``).
The database is ``DATABASE_URL`` when set, else embedded SQLite in the state dir.
"""

import os
from pathlib import Path

from lava_common.yaml_loader import load_yaml
from lava_server.config.files import (
    database_from_url,
    read_settings_file,
    secret_key,
    settings_file,
    shipped_device_types_dirs,
    sqlite_database,
)

DEFAULTS = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["*"],
    "STATE_DIR": "/var/lib/lava-server/default",
    "CONFIG_DIR": "/etc/lava-server",
    "DATABASE_URL": "",
    "TIME_ZONE": "UTC",
    "HEALTH_FREQUENCY_HOURS": 24,
    "QUEUE_TIMEOUT_HOURS": 0,
    "EXTRA_CONTEXT_VARIABLES": [],
    "ALLOW_VERSION_MISMATCH": False,
    "MASTER_BIND": "tcp://*:5556",
    "MASTER_EVENTS": "tcp://127.0.0.1:5557",
    "SCHEDULER_EVENTS": "tcp://127.0.0.1:5558",
    "LOGIN_REQUIRED": False,
    "INSTANCE_NAME": "LAVA",
    "BASE_URL": "http://localhost:8000",
    # empty: generated on first start and kept in STATE_DIR/secret_key
    "SECRET_KEY": "",
    # notifications (lava_scheduler/notifications)
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "localhost",
    "EMAIL_PORT": 25,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "DEFAULT_FROM_EMAIL": "lava@localhost",
    "IRC_NICK": "lava",
    "IRC_TIMEOUT": 10,
    "CALLBACK_TIMEOUT": 5,
    "CALLBACK_ALLOWED_HOSTS": [],  # empty: any host name (addresses are still checked)
    "CALLBACK_ALLOWED_NETWORKS": [],  # CIDRs a callback may reach although loopback/private/link-local
    "NOTIFICATION_RETRY_DELAYS": [30, 120, 600, 1800, 3600],  # seconds; one retry per entry
    # events (lava_scheduler/publisher): every process PUSHes to EVENT_INTERNAL, lava-publisher (lava_server/event_stream)
    # re-publishes on EVENT_SOCKET (ZeroMQ PUB) and EVENT_WEBSOCKET (/ws/, behind the web front)
    "EVENT_NOTIFICATION": True,
    "EVENT_INTERNAL": "tcp://127.0.0.1:5559",
    "EVENT_SOCKET": "tcp://*:5500",
    "EVENT_WEBSOCKET": "127.0.0.1:8001",
    # retention (lava_scheduler/retention): 0 days = never
    "LOG_COMPRESSION_DAYS": 0,
    "JOB_RETENTION_DAYS": 0,
    "RETENTION_INTERVAL": 3600,
    "RETENTION_BATCH": 200,
    # PostgreSQL plans the API's hot queries once per session (false behind a transaction-mode pooler)
    "PREPARED_STATEMENTS": True,
}


def _load() -> dict:
    values = dict(DEFAULTS)
    if "LAVA_CONFIG_DIR" in os.environ:
        values["CONFIG_DIR"] = os.environ["LAVA_CONFIG_DIR"]
    values.update(read_settings_file(settings_file()))
    for key in DEFAULTS:
        env = os.environ.get(f"LAVA_{key}")
        if env is not None:
            values[key] = load_yaml(env) if key not in ("DATABASE_URL", "STATE_DIR", "CONFIG_DIR") else env
    return values


LAVA = _load()

DEBUG = bool(LAVA["DEBUG"])
ALLOWED_HOSTS = list(LAVA["ALLOWED_HOSTS"])
STATE_DIR = Path(LAVA["STATE_DIR"])
CONFIG_DIR = Path(LAVA["CONFIG_DIR"])
SECRET_KEY = os.environ.get("LAVA_SECRET_KEY") or str(LAVA["SECRET_KEY"] or "") or secret_key(STATE_DIR)

DISPATCHER_CONFIG_DIR = CONFIG_DIR / "dispatcher-config"
DEVICES_PATH = DISPATCHER_CONFIG_DIR / "devices"
DEVICE_TYPES_PATHS = [DISPATCHER_CONFIG_DIR / "device-types", *shipped_device_types_dirs()]
HEALTH_CHECKS_PATH = DISPATCHER_CONFIG_DIR / "health-checks"
DISPATCHER_D = CONFIG_DIR / "dispatcher.d"
MEDIA_ROOT = STATE_DIR / "media"
JOB_OUTPUT_DIR = MEDIA_ROOT / "job-output"

HEALTH_FREQUENCY_HOURS = int(LAVA["HEALTH_FREQUENCY_HOURS"])
QUEUE_TIMEOUT_HOURS = int(LAVA["QUEUE_TIMEOUT_HOURS"])
EXTRA_CONTEXT_VARIABLES = list(LAVA["EXTRA_CONTEXT_VARIABLES"])
ALLOW_VERSION_MISMATCH = bool(LAVA["ALLOW_VERSION_MISMATCH"])
MASTER_BIND = LAVA["MASTER_BIND"]
MASTER_EVENTS = LAVA["MASTER_EVENTS"]
SCHEDULER_EVENTS = LAVA["SCHEDULER_EVENTS"]
INSTANCE_NAME = LAVA["INSTANCE_NAME"]
BASE_URL = str(LAVA["BASE_URL"]).rstrip("/")

EMAIL_BACKEND = str(LAVA["EMAIL_BACKEND"])
EMAIL_HOST = str(LAVA["EMAIL_HOST"])
EMAIL_PORT = int(LAVA["EMAIL_PORT"])
EMAIL_HOST_USER = str(LAVA["EMAIL_HOST_USER"])
EMAIL_HOST_PASSWORD = str(LAVA["EMAIL_HOST_PASSWORD"])
EMAIL_USE_TLS = bool(LAVA["EMAIL_USE_TLS"])
EMAIL_USE_SSL = bool(LAVA["EMAIL_USE_SSL"])
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = str(LAVA["DEFAULT_FROM_EMAIL"])
IRC_NICK = str(LAVA["IRC_NICK"])
IRC_TIMEOUT = float(LAVA["IRC_TIMEOUT"])
CALLBACK_TIMEOUT = float(LAVA["CALLBACK_TIMEOUT"])
CALLBACK_ALLOWED_HOSTS = list(LAVA["CALLBACK_ALLOWED_HOSTS"])
CALLBACK_ALLOWED_NETWORKS = list(LAVA["CALLBACK_ALLOWED_NETWORKS"])
NOTIFICATION_RETRY_DELAYS = [float(d) for d in LAVA["NOTIFICATION_RETRY_DELAYS"]]
EVENT_NOTIFICATION = bool(LAVA["EVENT_NOTIFICATION"])
EVENT_INTERNAL = str(LAVA["EVENT_INTERNAL"])
EVENT_SOCKET = str(LAVA["EVENT_SOCKET"])
EVENT_WEBSOCKET = str(LAVA["EVENT_WEBSOCKET"])
LOG_COMPRESSION_DAYS = int(LAVA["LOG_COMPRESSION_DAYS"])
JOB_RETENTION_DAYS = int(LAVA["JOB_RETENTION_DAYS"])
RETENTION_INTERVAL = float(LAVA["RETENTION_INTERVAL"])
RETENTION_BATCH = int(LAVA["RETENTION_BATCH"])
PREPARED_STATEMENTS = bool(LAVA["PREPARED_STATEMENTS"])

if LAVA["DATABASE_URL"]:
    DATABASES = {"default": database_from_url(LAVA["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(STATE_DIR / "lava.sqlite3")}
DATABASES["default"].setdefault("TEST", {})
# web workers keep their database connection between requests: opening one costs
# more than a whole API call (20 ms under load, against ~3 ms for a token check)
DATABASES["default"].setdefault("CONN_MAX_AGE", 300)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# the job table's covering indexes (their INCLUDE columns) are for PostgreSQL; SQLite builds them
# without those columns, which is all it needs
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "lava_server.accounts",
    "lava_server.web",
    "lava_scheduler.lab",
    "lava_scheduler.jobs",
    "lava_scheduler.results",
    "lava_scheduler.permissions",
    "lava_scheduler.queries",
    "lava_scheduler.scheduler",
    "lava_scheduler.master",
    "lava_server.remote_artifacts",
    "lava_scheduler.notifications",
    "lava_scheduler.publisher",
    "lava_server.event_stream",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # the XML-RPC API leaves here: what follows serves web pages
    "lava_server.xmlrpc.shortcut.XmlRpcShortcut",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "lava_server.urls"
WSGI_APPLICATION = "lava_server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "OPTIONS": {
            # cached, yet an edited template shows at the next page load
            "loaders": [
                (
                    "lava_server.web.loaders.FreshCachedLoader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = LAVA["TIME_ZONE"]
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = STATE_DIR / "static"
# unlike the rest of the state directory (made 0750/0640 under umask 027), static
# files are public and apache serves them as another user
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
