"""What is rewritten in a job and why: its images (ours, of the same role and architecture), its test
definitions (our repository), its test services (our compose file)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from corpus_run.board_archive import Board, boot_disk, nbd_rootfs, nfs_rootfs, ramdisk_for
from corpus_run.images import KERNELS, NETROOT_SCRIPTS, build_images, compress, images_dir, network_root
from corpus_run.left_out import LeftOut
from corpus_run.peers import DOCKERD, FILES, NFS
from corpus_run.testdefs import repository_tarball

# boot methods and deploys whose board is not one of ours, with why
FOREIGN_METHODS = {
    "iso-installer": "an x86 ISO installer (the iso-installer helper's work)",
    "qemu-iso": "an x86 ISO installer (the iso-installer helper's work)",
    "monitor": "an MCU firmware image (zephyr/luvos) we cannot substitute",
    "dfu": "an MCU board flashed over DFU (real hardware)",
}
ANDROID_LABELS = {"system", "userdata", "cache", "boot", "vendor", "recovery"}


SERVICE_IMAGE = "lava/busybox:1"
SERVICE_COMPOSE = """# ours (share/corpus-run.py): a stand-in for the reference's test service
version: "3.7"
services:
  {service}:
    image: {image}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    volumes: ["./www:/www:ro"]
    stop_signal: SIGKILL
"""


@dataclass
class Adapter:
    """Rewrites one job's URLs and test repositories; remembers what it changed beyond URLs."""

    work: Path
    board: Board
    repo_url: str
    notes: list[str] = field(default_factory=list)
    count: int = 0

    def image(self, label: str, spec: dict, deploy: dict) -> None:
        if not isinstance(spec, dict) or "url" not in spec or str(spec["url"]).startswith("downloads://"):
            return  # downloads:// names a file an earlier deploy fetched
        if spec.get("sparse"):
            raise LeftOut(f"Android images ({label}, sparse): an image kind we cannot substitute")
        if str(spec.get("url", "")).startswith("rclone"):
            raise LeftOut("an rclone:// download: no rclone remote here")
        self.count += 1
        folder = self.work / f"image-{self.count}-{label}"
        folder.mkdir(parents=True)
        path = self.substitute(label, spec, deploy, folder)
        # under the original file name: postprocess steps and image_args may name it
        compression = spec.get("compression")
        name = Path(urlsplit(str(spec["url"])).path).name
        if compression and name.endswith(f".{compression}"):
            name = name[: -len(compression) - 1]
        if name and name != path.name:
            named = folder / "named" / name
            named.parent.mkdir()
            shutil.copyfile(path, named)
            path = named
        path = compress(path, compression)
        spec["url"] = f"file://{path}"
        for algorithm in ("md5sum", "sha256sum", "sha512sum"):
            if algorithm in spec:
                spec[algorithm] = hashlib.new(algorithm[:-3], path.read_bytes()).hexdigest()

    def substitute(self, label: str, spec: dict, deploy: dict, folder: Path) -> Path:
        arch = self.board.arch
        fmt = str(spec.get("format", ""))
        if label == "kernel":
            return images_dir() / KERNELS[arch]
        if label in ("ramdisk", "initrd"):
            if network_root(deploy):
                return self.netroot("netroot.cpio.gz")  # mounts nfsroot= or nbd.server= and switches to it
            return ramdisk_for(self.board, folder)
        if label == "nfsrootfs":
            if NFS.server is None:
                raise LeftOut(f"an NFS root: no NFS server of ours ({NFS.reason})")
            return nfs_rootfs(self.board, self.netroot("rootfs.tar.gz"), folder)
        if label == "nbdroot":
            return nbd_rootfs(self.board, self.netroot("rootfs.tar.gz"), folder)
        if label == "modules":
            tarball = folder / "modules.tar"
            subprocess.run(["tar", "-cf", str(tarball), "-C", str(folder), "--files-from", "/dev/null"], check=True)
            return tarball
        if label == "dtb":
            # the machine's own device tree, from the kernel package of our images (build-armhf.sh)
            dtb = images_dir() / arch / Path(urlsplit(str(spec["url"])).path).name
            if not dtb.is_file():
                raise LeftOut(f"a device tree {dtb.name!r} for {arch}: our kernel packages give none by that name")
            return dtb
        image_arg = str(spec.get("image_arg", ""))
        if fmt == "ext4" or "format=ext4" in image_arg:
            raise LeftOut("a bare ext4 filesystem given to QEMU as format=ext4 (QEMU has no such format)")
        if not image_arg and deploy.get("to") != "downloads":  # a file the board is not given: any payload does
            return ramdisk_for(self.board, folder)
        if "-drive" in image_arg or "-hd" in image_arg or label == "rootfs":
            disk = boot_disk(self.board, folder)
            if fmt == "qcow2" or "format=qcow2" in image_arg:
                qcow = folder / "disk.qcow2"
                subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(disk), str(qcow)], check=True)
                return qcow
            return disk
        raise LeftOut(f"image {label!r} ({deploy.get('to')}): no test image of ours has that role")

    def netroot(self, name: str) -> Path:
        script = NETROOT_SCRIPTS.get(self.board.arch)
        reason = build_images(script) if script else f"no network-root images for {self.board.arch}"
        if reason:
            raise LeftOut(f"a network root filesystem for {self.board.arch}: {reason}")
        return images_dir() / self.board.arch / name

    def add_netroot_ramdisk(self, deploy: dict) -> None:
        """A network-root deploy without a ramdisk gets ours: our kernels mount no NFS or NBD root themselves
        (Debian builds neither ROOT_NFS nor IP_PNP in, and NFS, NBD and the network cards are modules)."""
        if (network_root(deploy) and deploy.get("to") == "tftp" and isinstance(deploy.get("kernel"), dict)
                and not any(isinstance(deploy.get(label), dict) for label in ("ramdisk", "initrd"))):
            deploy["ramdisk"] = {"url": "file:///netroot.cpio.gz"}  # image() puts ours there
            self.notes.append("our network-root ramdisk added (our kernel mounts no NFS root by itself)")

    def job(self, job: dict) -> dict:
        for action in job.get("actions") or []:
            (section, block), = action.items()
            if not isinstance(block, dict):
                continue
            method = block.get("to") if section == "deploy" else block.get("method")
            if method in FOREIGN_METHODS:
                raise LeftOut(FOREIGN_METHODS[method])
            if section == "deploy":
                postprocess = (block.get("postprocess") or {}).get("docker")
                if isinstance(postprocess, dict) and postprocess.get("image"):
                    if DOCKERD.daemon is None:
                        raise LeftOut(f"postprocess in docker: no docker daemon of ours ({DOCKERD.reason})")
                    DOCKERD.provide(str(postprocess["image"]))
                android = sorted(ANDROID_LABELS & set(block.get("images") or {}))
                if android:  # before the others: their kernel and device tree are Android's too
                    raise LeftOut(f"Android images ({', '.join(android)}): an image kind we cannot substitute")
                self.add_netroot_ramdisk(block)
                for label, spec in (block.get("images") or {}).items():
                    self.image(label, spec, block)
                for label in ("kernel", "ramdisk", "initrd", "nfsrootfs", "nbdroot", "modules", "dtb"):
                    if isinstance(block.get(label), dict):
                        self.image(label, block[label], block)
            if section == "test":
                if block.get("monitors"):
                    raise LeftOut("a monitor test of an MCU firmware image we cannot substitute")
                for definition in block.get("definitions") or []:
                    self.definition(definition)
                for service in block.get("services") or []:
                    self.service(service)
        return job

    def service(self, entry: dict) -> None:
        """A test service: our compose file (busybox httpd in SERVICE_IMAGE) at the job's ``path``, in a
        tarball of the job's compression (``from: url``) or a local git repository (``from: git``)."""
        if DOCKERD.daemon is None:
            raise LeftOut(f"test services: no docker daemon of ours ({DOCKERD.reason})")
        DOCKERD.provide(SERVICE_IMAGE)
        name = str(entry.get("service") or entry.get("name") or "service")
        self.count += 1
        root = self.work / f"service-{self.count}-{entry.get('name')}"
        compose = root / str(entry["path"])
        (compose.parent / "www").mkdir(parents=True)
        compose.write_text(SERVICE_COMPOSE.format(service=name, image=SERVICE_IMAGE))
        (compose.parent / "www" / "index.html").write_text(f"{name}\n")
        if entry.get("from") == "git":
            git = ["git", "-C", str(root), "-c", "user.name=corpus-run", "-c", "user.email=corpus-run@localhost"]
            subprocess.run([*git, "init", "-q", "-b", str(entry.get("branch") or "master")], check=True)
            subprocess.run([*git, "add", "-A"], check=True)
            subprocess.run([*git, "commit", "-q", "-m", "test service for corpus-run"], check=True)
            entry["repository"] = f"file://{root}"
            entry.pop("revision", None)
        else:
            tarball = self.work / f"service-{self.count}.tar"
            with tarfile.open(tarball, "w") as archive:
                archive.add(root, arcname=".")
            entry["repository"] = f"file://{compress(tarball, entry.get('compression'))}"
        self.notes.append(f"test service {entry.get('name')}: our busybox httpd")

    def definition(self, definition: dict) -> None:
        source = definition.get("from")
        if source == "git":
            definition["repository"] = self.repo_url
            if definition.pop("revision", None):
                self.notes.append("dropped a pinned revision of the reference's repository")
        elif source == "url":  # a tarball of a repository: ours, packed as the job says
            definition["repository"] = f"file://{repository_tarball(self.repo_url, definition.get('compression'))}"
        elif source == "inline" and FILES.url:
            repository = definition.get("repository")
            run = repository.get("run") if isinstance(repository, dict) else None
            if isinstance(run, dict) and isinstance(run.get("steps"), list):
                run["steps"] = [FILES.rewrite(step) if isinstance(step, str) else step for step in run["steps"]]
        testdef = self.testdef(definition)
        install = testdef.get("install") if isinstance(testdef, dict) else None
        if isinstance(install, dict) and any(key == "deps" or key.startswith("deps-") for key in install):
            # the reference's images are distributions; our busybox boards have no package manager
            skip = definition.setdefault("skip_install", [])
            if isinstance(skip, list) and "deps" not in skip and "all" not in skip:
                skip.append("deps")
                self.notes.append(f"skip_install: deps for {definition.get('name')} (no package manager on busybox)")

    def testdef(self, definition: dict) -> dict:
        if definition.get("from") == "inline":
            return definition.get("repository") or {}
        if definition.get("from") not in ("git", "url"):
            return {}
        path = Path(self.repo_url.removeprefix("file://")) / str(definition.get("path", ""))
        if not path.is_file():
            raise LeftOut(f"test definition {definition.get('path')!r}: neither the corpus nor we have it")
        return yaml.safe_load(path.read_text()) or {}
