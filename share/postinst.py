#!/usr/bin/env python3
"""Set up (or upgrade) the lab's server side after the lava-server package is installed.

Run by the package's postinst as root; safe to run again by hand, for instance once
PostgreSQL runs if it did not at installation time::

    /usr/share/lava-server/postinst.py

It writes /etc/lava-server/settings.yaml when missing (generated secret key and database
password), creates the PostgreSQL role and database when PostgreSQL is on this host,
migrates, collects static files, registers this host as a worker and gives the state
directories to the ``lavaserver`` user. It never overwrites settings an admin wrote.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

USER = "lavaserver"
DATABASE = "lavaserver"
LAVA_SERVER = "/usr/lib/lava/venv/bin/lava-server"
OWNED_DIRS = ["dispatcher-config/devices", "dispatcher-config/health-checks", "dispatcher-config/device-types",
              "dispatcher.d"]


class SetupError(Exception):
    """A step that cannot be done now; the message says what to do."""


def log(message: str) -> None:
    print(f"lava-server: {message}", flush=True)


def postgresql_is_local() -> bool:
    return shutil.which("pg_lsclusters") is not None and bool(
        subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.strip()
    )


def settings_text(database_url: str) -> str:
    database_line = (f"DATABASE_URL: {database_url}\n" if database_url else
                     "# no local PostgreSQL: SQLite in STATE_DIR until DATABASE_URL is set\n"
                     "# DATABASE_URL: postgresql://USER:PASSWORD@HOST:5432/lavaserver\n")
    return (
        "# Written by the lava-server package (share/postinst.py); yours to edit.\n"
        "# Every key may be overridden by LAVA_<KEY> in the environment.\n"
        f"{database_line}"
        f"SECRET_KEY: \"{secrets.token_urlsafe(50)}\"\n"
        "STATE_DIR: /var/lib/lava-server/default\n"
        "CONFIG_DIR: /etc/lava-server\n"
        "ALLOWED_HOSTS: [\"*\"]\n"
        "DEBUG: false\n"
        f"BASE_URL: http://{socket.getfqdn()}\n"
    )


def write_settings(path: Path, local_postgresql: bool) -> bool:
    """Write the settings file unless it exists; True when written."""
    if path.exists():
        return False
    url = ""
    if local_postgresql:
        # URL-safe alphabet: the password sits in a URL unescaped
        url = f"postgresql://{USER}:{secrets.token_urlsafe(24)}@localhost:5432/{DATABASE}"
    path.parent.mkdir(parents=True, exist_ok=True)
    # the file holds secrets: created private, then given to the group the daemons run in
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(settings_text(url))
    return True


def read_database_url(path: Path) -> str:
    from lava_common.yaml_loader import load_yaml

    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # the admin's file: say where it is wrong, do not crash the install
        raise SetupError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise SetupError(f"{path}: settings must be a YAML mapping")
    return str(os.environ.get("LAVA_DATABASE_URL") or data.get("DATABASE_URL") or "")


def as_postgres(port: int, sql: str) -> str:
    result = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-X", "-qAt", "-c", sql],
                            capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise SetupError(f"psql: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def ensure_database(url: str) -> None:
    """The role and database of a local DATABASE_URL, with the URL's password."""
    parts = urlsplit(url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1", None):
        log(f"database on {parts.hostname}: not created here")
        return
    user, name, port = parts.username or USER, parts.path.lstrip("/") or DATABASE, parts.port or 5432
    password = (parts.password or "").replace("'", "''")
    try:
        as_postgres(port, "SELECT 1")
    except SetupError as exc:
        raise SetupError(f"PostgreSQL on port {port} does not answer ({exc}); start it "
                         "(service postgresql start) and run /usr/share/lava-server/postinst.py") from None
    verb = "ALTER" if as_postgres(port, f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") else "CREATE"
    as_postgres(port, f"{verb} ROLE \"{user}\" WITH LOGIN PASSWORD '{password}'")
    if not as_postgres(port, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        as_postgres(port, f"CREATE DATABASE \"{name}\" OWNER \"{user}\" ENCODING 'UTF8' TEMPLATE template0")
        log(f"created PostgreSQL database {name} (role {user})")


def manage(*args: str) -> subprocess.CompletedProcess:
    """lava-server manage as the lavaserver user, so that what it creates is the daemons'."""
    return subprocess.run(["runuser", "-u", USER, "--", LAVA_SERVER, "manage", *args],
                          capture_output=True, text=True, cwd="/")


def run_manage(*args: str) -> str:
    result = manage(*args)
    if result.returncode != 0:
        raise SetupError(f"lava-server manage {' '.join(args)}: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def prepare_directories(config_dir: Path, state_dir: Path, log_dir: Path) -> None:
    for relative in OWNED_DIRS:
        (config_dir / relative).mkdir(parents=True, exist_ok=True)
        chown_tree(config_dir / relative, USER)
    for path in (state_dir, log_dir):
        path.mkdir(parents=True, exist_ok=True)
        chown_tree(path, USER)
    # the web server (another user) reaches the static files below it; what is private
    # (media: job logs and files) keeps its own 0750
    state_dir.chmod((state_dir.stat().st_mode & 0o7777) | 0o011)
    settings = config_dir / "settings.yaml"
    if settings.exists():
        os.chown(settings, 0, pwd.getpwnam(USER).pw_gid)


def register_local_worker() -> None:
    hostname = socket.gethostname()
    if manage("workers", "details", hostname).returncode != 0:
        run_manage("workers", "add", hostname, "--description", "this host (lava package)")
        log(f"registered worker {hostname}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-dir", type=Path, default=Path("/etc/lava-server"))
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/lava-server/default"))
    parser.add_argument("--log-dir", type=Path, default=Path("/var/log/lava-server"))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("postinst.py: run it as root", file=sys.stderr)
        return 2
    settings = args.config_dir / "settings.yaml"
    try:
        if write_settings(settings, postgresql_is_local()):
            log(f"wrote {settings}")
        prepare_directories(args.config_dir, args.state_dir, args.log_dir)
        url = read_database_url(settings)
        if urlsplit(url).scheme.startswith("postgres"):
            ensure_database(url)
        run_manage("migrate", "--noinput")
        run_manage("collectstatic", "--noinput")
        if Path("/usr/lib/lava/venv/bin/lava-worker").exists():
            register_local_worker()
    except SetupError as exc:
        print(f"lava-server: setup not finished: {exc}", file=sys.stderr)
        return 1
    log("database migrated, static files collected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
