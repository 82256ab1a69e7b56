"""Deploy actions: ``to:`` selects the schema. ``DEPLOY_TARGETS`` lists every known target."""

from lava_common.schemas.common import (
    ACTION,
    ARTEFACT,
    ARTEFACTS,
    DOCKER,
    DOCKER_IMAGE,
    FREE_MAPPING,
    NAME,
    OS,
    STRINGS,
    URL,
)
from lava_common.schemas.engine import AnyOf, Bool, Const, Dict, Enum, Int, List, Node, Str, Tagged, named

_DEPLOY = ACTION.extend(
    optional={"os": OS, "authorize": Enum(("ssh",), label="authorize method"), "overlay_backend": Str()}
)


def _deploy(to: str, required: dict[str, Node] | None = None, optional: dict[str, Node] | None = None) -> Dict:
    return named(f"deploy-{to}", _DEPLOY.extend({"to": Const(to), **(required or {})}, optional,
                                                description=f"a deploy to {to} block (a mapping)"))


KERNEL = named("kernel", ARTEFACT.extend(optional={"type": Enum(("zimage", "uimage", "image"), label="kernel type")}))
RAMDISK = named("ramdisk", ARTEFACT.extend(optional={"header": Const("u-boot"), "install_modules": Bool(),
                                    "install_overlay": Bool()}))
ROOTFS = named("rootfs", ARTEFACT.extend(optional={"install_modules": Bool(), "install_overlay": Bool(), "prefix": Str()}))
PERSISTENT_NFS = Dict(required={"address": NAME}, optional={"install_overlay": Bool()})

_BOOTLOADER_FILES = {
    "kernel": KERNEL,
    "ramdisk": RAMDISK,
    "initrd": RAMDISK,
    "dtb": ARTEFACT,
    "dtbo": AnyOf(ARTEFACT, List(ARTEFACT), description="an artefact or a list of artefacts"),
    "modules": ARTEFACT,
    "nfsrootfs": ROOTFS,
    "persistent_nfs": PERSISTENT_NFS,
    "preseed": ARTEFACT,
    "tee": ARTEFACT,
}

_IMAGES = {"images": ARTEFACTS}

_POSTPROCESS = Dict(optional={"docker": DOCKER.extend(optional={"steps": STRINGS})})

_REMOVABLE = {
    "device": NAME,
    "image": ARTEFACT,
    "images": ARTEFACTS,
    "download": Dict(optional={"tool": Str(), "prompt": Str(), "options": Str()}),
    "writer": Dict(optional={"tool": Str(), "prompt": Str(), "options": Str()}),
    "tool": FREE_MAPPING,
    "uniquify": Bool(),
}

DEPLOY_TARGETS: dict[str, Node] = {
    "avh": _deploy("avh", optional={"images": ARTEFACTS, "fw_package": ARTEFACT, "options": FREE_MAPPING}),
    "docker": _deploy("docker", {"image": AnyOf(
        DOCKER_IMAGE, Dict(required={"name": DOCKER_IMAGE}, optional={"local": Bool(), "login": FREE_MAPPING}),
        description="a docker image name or a mapping with name and local",
    )}),
    "download": _deploy("download", optional={**_IMAGES, "postprocess": _POSTPROCESS}),
    "downloads": _deploy("downloads", optional={**_IMAGES, "postprocess": _POSTPROCESS}),
    "fastboot": _deploy("fastboot", optional={**_IMAGES, "docker": DOCKER, "connection": Str()}),
    "flasher": _deploy("flasher", optional=_IMAGES),
    "fvp": _deploy("fvp", optional=_IMAGES),
    "iso-installer": _deploy("iso-installer", {"images": ARTEFACTS, "iso": Dict(
        required={"kernel": NAME, "initrd": NAME, "installation_size": NAME},
        optional={"console": Str()},
    )}),
    "lxc": _deploy("lxc", optional={"packages": STRINGS}),
    "mps": _deploy("mps", optional=_IMAGES),
    "musca": _deploy("musca", optional=_IMAGES),
    "nbd": _deploy("nbd", optional={**_BOOTLOADER_FILES, "nbdroot": ROOTFS}),
    "nfs": _deploy("nfs", optional={**_BOOTLOADER_FILES, **_IMAGES}),
    "overlay": _deploy("overlay"),
    "qdl": _deploy("qdl", optional={**_IMAGES, "rootfs_image": Node(), "qcomflash": Node()}),
    "recovery": _deploy("recovery", optional=_IMAGES),
    "sata": _deploy("sata", optional=_REMOVABLE),
    "sd": _deploy("sd", optional=_REMOVABLE),
    "ssh": _deploy("ssh", optional={"connection": Str(), "firmware": ARTEFACT, **_BOOTLOADER_FILES}),
    "tftp": _deploy("tftp", optional=_BOOTLOADER_FILES),
    "tmpfs": _deploy("tmpfs", {"images": ARTEFACTS},
                     {"uefi": ARTEFACT, "type": Const("monitor"), "memory": Int(min=1),
                      "dtb": AnyOf(URL, ARTEFACT, description="a URL or an artefact")}),
    "u-boot-ums": _deploy("u-boot-ums", {"image": ARTEFACT}),
    "usb": _deploy("usb", optional=_REMOVABLE),
    "usbg-ms": _deploy("usbg-ms", {"image": ARTEFACT}),
    "uuu": _deploy("uuu", optional=_IMAGES),
    "vemsd": _deploy("vemsd", {"recovery_image": ARTEFACT}),
}

DEPLOY = Tagged("to", DEPLOY_TARGETS, label="deploy target")
