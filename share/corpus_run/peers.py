"""The run's file servers, started once for all its jobs: a private docker daemon, an nfs-ganesha, an HTTP
server for the files test steps fetch."""

from __future__ import annotations

import functools
import re
import socket
import tarfile
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# share/virtual-lab is not a package: its modules are on sys.path by corpus_run/__init__.py
import private_dockerd
from nfs_server import GaneshaServer, NfsServerError

from corpus_run.images import build_images, images_dir
from corpus_run.left_out import LeftOut


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

class Dockerd:
    """A private docker daemon (share/virtual-lab/private_dockerd.py) whose images are all our busybox
    root filesystem, under the names the jobs ask for (no registry is reachable)."""

    def __init__(self) -> None:
        self.daemon: private_dockerd.PrivateDockerd | None = None
        self.reason = "not started"
        self.tags: set[str] = set()

    def start(self) -> None:
        self.reason = private_dockerd.available() or build_images("build-container-rootfs.sh")
        if self.reason:
            return
        daemon = private_dockerd.PrivateDockerd(Path(tempfile.mkdtemp(prefix="lava-cr-dk-", dir="/tmp")))
        daemon.start()
        self.daemon = daemon

    def provide(self, tag: str) -> None:
        if tag not in self.tags:
            self.daemon.import_image(images_dir() / "containers" / "busybox-rootfs.tar", tag)
            self.tags.add(tag)

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon.remove_scratch()
            self.daemon = None


DOCKERD = Dockerd()


class Nfs:
    """An nfs-ganesha of ours (share/virtual-lab/nfs_server.py, as the lab's and the tests') exporting one
    folder, the workers' ``nfs_root``, on a free port of 127.0.0.1: the boards reach it as 10.0.2.2."""

    def __init__(self) -> None:
        self.server: GaneshaServer | None = None
        self.reason = "not started"

    def start(self, folder: Path) -> None:
        server = GaneshaServer(folder / "export", free_port(), folder / "ganesha")
        try:
            server.start()
        except NfsServerError as exc:
            self.reason = str(exc)
            return
        self.server = server

    def dispatcher_keys(self) -> dict:
        if self.server is None:
            return {}
        return {"nfs_root": str(self.server.export_root), "dispatcher_nfs_ip": "10.0.2.2",
                "nfs_server_check": f"127.0.0.1:{self.server.port}"}

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


NFS = Nfs()


class Files:
    """An HTTP server of ours on a free port of 127.0.0.1 (the boards' 10.0.2.2) for the files the jobs' test
    steps fetch from the reference lab's server (``wget __FQDN__/modules.tar.gz``): each name gets a file of
    ours of that kind (a ``.tar.gz``: a small modules tarball)."""

    def __init__(self) -> None:
        self.server: ThreadingHTTPServer | None = None
        self.folder: Path | None = None
        self.url = ""
        self.lock = threading.Lock()

    def start(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(QuietFiles, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.folder, self.url = folder, f"http://10.0.2.2:{self.server.server_address[1]}"

    def rewrite(self, step: str) -> str:
        """The step with each ``__FQDN__/name`` made a URL of ours, the file made."""
        def ours(match: re.Match) -> str:
            name = Path(match.group(1)).name
            if not name.endswith((".tar.gz", ".tgz")):
                raise LeftOut(f"a test step fetches {match.group(0)!r}: no file of ours of that kind")
            with self.lock:  # jobs adapted at once may name the same file: written once, whole
                if not (self.folder / name).exists():
                    note = self.folder / "README.corpus-run"
                    note.write_text("ours (share/corpus-run.py): what the job's test step fetched for its modules\n")
                    with tarfile.open(self.folder / f".{name}", "w:gz") as archive:
                        archive.add(note, arcname="lib/modules/README.corpus-run")
                    (self.folder / f".{name}").rename(self.folder / name)
            return f"{self.url}/{name}"
        return re.sub(r"__FQDN__/(\S+)", ours, step)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server, self.url = None, ""


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


FILES = Files()
