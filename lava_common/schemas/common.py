"""Fragments shared by several action schemas: common action keys, artefact URLs, docker, prompts."""

import re
from typing import Any
from urllib.parse import urlsplit

from lava_common.schemas.engine import (
    ALLOW,
    AnyOf,
    Bool,
    Const,
    Context,
    Custom,
    Dict,
    Enum,
    Int,
    List,
    Map,
    Node,
    Str,
    child,
    named,
    show,
    words,
)
from lava_common.schemas.timeouts import NAMED_TIMEOUTS, TIMEOUT

NAME = Str(min_len=1)
STRINGS = List(Str())
STR_OR_STRINGS = named("strings", AnyOf(Str(), List(Str()), description="a string or a list of strings"))
FREE_MAPPING = Dict(extra=ALLOW)


# keys every action (deploy, boot, test, command) may carry
ACTION = Dict(
    optional={
        "namespace": NAME,
        "connection-namespace": NAME,
        "protocols": Map(Node(), description="a mapping of protocol names to settings"),
        "role": List(NAME, min_len=1),
        "timeout": TIMEOUT,
        "timeouts": NAMED_TIMEOUTS,
        "repeat": Int(min=1),
        "failure_retry": Int(min=1),
        "failure_retry_interval": Int(min=1),
    },
    description="an action block (a mapping)",
)

URL_SCHEMES = ("http", "https", "file", "scp", "rclone", "downloads", "lxc")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def _check_url(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not str:
        ctx.error(path, f"expected a URL string, got {show(value)}")
        return
    if not value:
        ctx.error(path, "must not be empty")
        return
    # text without "scheme://" is left alone: scp "host:path" forms and site placeholders are legal
    match = _SCHEME.match(value)
    if match and match.group(1).lower() not in URL_SCHEMES:
        ctx.error(path, f"unsupported URL scheme {show(match.group(1))}; use one of {words(URL_SCHEMES)}")
        return
    try:
        urlsplit(value)
    except ValueError as exc:  # "http://[host" and the like: no downloader could read it
        ctx.error(path, f"not a valid URL: {exc}")


URL = named("url", Custom(_check_url, json={"type": "string", "minLength": 1}, description="a URL",
             accepts=lambda v: type(v) is str))

COMPRESSION = Enum(("bz2", "gz", "xz", "zip", "zstd"), label="compression")

# one downloadable artefact
ARTEFACT = named("artefact", Dict(
    required={"url": URL},
    optional={
        "compression": COMPRESSION,
        "archive": Const("tar"),
        "md5sum": Str(),
        "sha256sum": Str(),
        "sha512sum": Str(),
        "headers": Map(Str()),
        "use_cache": Bool(),
        "format": Enum(("cpio.newc", "ext4", "tar", "qcow2", "raw"), label="image format", soft=True),
        "partition": Int(min=0),
        "sparse": Bool(),
        "overlays": Map(Node()),
        "image_arg": Str(),
        "apply-overlay": Bool(),
        "root_partition": Int(min=0),
        "rename": Str(),
        "reboot": Enum(("hard-reset", "fastboot-reboot", "fastboot-reboot-bootloader", "fastboot-reboot-fastboot"),
                       label="reboot method", soft=True),
        "download": Bool(),  # false: only give the URL to the device, do not fetch
        "storage_file": Str(),
    },
    description="an artefact (a mapping with a url)",
))

ARTEFACTS = named("artefacts", Map(ARTEFACT, description="a mapping of image names to artefacts"))

# docker image names: [registry[:port]/]path[:tag][@digest]; absolute paths name local models (FVP)
DOCKER_IMAGE = Str(
    min_len=1,
    pattern=r"([a-zA-Z0-9][a-zA-Z0-9.-]*(:[0-9]+)?/)?[a-z0-9]+([._/-]+[a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?\Z",
    pattern_help="must be a docker image name such as registry.example.org/team/image:tag",
)



def _check_docker(value: dict, path: str, ctx: Context) -> None:
    # the reference spells the image "image" in most places and "name" in a few (fvp)
    if ("image" in value) == ("name" in value):
        ctx.error(child(path, "image"), "give the docker image name as image (or name), exactly once")


DOCKER = named("docker", Dict(
    optional={
        "image": DOCKER_IMAGE,
        "name": DOCKER_IMAGE,
        "local": Bool(),
        "login": FREE_MAPPING,
        "container_name": Str(),
        "network_from": Str(),
        "binary": Str(),
        "options": FREE_MAPPING,
        "wait": FREE_MAPPING,
    },
    checks=[_check_docker],
    description="a docker block (a mapping with an image)",
))

PROMPTS = STR_OR_STRINGS


def _check_auto_login(value: dict, path: str, ctx: Context) -> None:
    if ("password" in value) != ("password_prompt" in value):
        ctx.error(path, "password and password_prompt go together")


AUTO_LOGIN = named("auto-login", Dict(
    required={"login_prompt": NAME, "username": NAME},
    optional={"password_prompt": NAME, "password": Str(), "login_commands": STRINGS},
    checks=[_check_auto_login],
))

_DOWNLOAD_TRANSFER = Dict(required={"download_command": NAME, "unpack_command": NAME})
_ZMODEM_TRANSFER = Dict(required={"transfer_method": Const("zmodem"), "unpack_command": NAME})


def _check_transfer_overlay(value: Any, path: str, ctx: Context) -> None:
    if type(value) is dict and "transfer_method" in value:
        _ZMODEM_TRANSFER.check(value, path, ctx)
    else:
        _DOWNLOAD_TRANSFER.check(value, path, ctx)


TRANSFER_OVERLAY = named("transfer-overlay", Custom(
    _check_transfer_overlay,
    json=lambda defs: {"anyOf": [_DOWNLOAD_TRANSFER.json_schema(defs), _ZMODEM_TRANSFER.json_schema(defs)]},
    description="a transfer_overlay block",
    accepts=lambda v: type(v) is dict,
))

OS_NAMES = (
    "android", "apertis", "archlinux", "centos", "centos_installer", "debian", "debian_installer",
    "fedora", "lede", "oe", "qnx", "slackware", "ubuntu",
)
OS = named("os", Enum(OS_NAMES, label="os", soft=True))
