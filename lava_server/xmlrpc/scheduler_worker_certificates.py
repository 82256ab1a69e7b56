"""``scheduler.workers.get_certificate`` / ``set_certificate``: the worker's public CURVE key.

The master lets a worker in by the key stored on it (``Worker.public_key``),
so setting the certificate here is how an admin enrols a worker's new key.
"""

import re
from typing import Any

from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import Context, as_text, fault, method, require_admin

CHANGE = "lab.change_worker"
Z85_KEY = re.compile(r"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}")
PUBLIC_KEY_LINE = re.compile(r'public-key\s*=\s*"([^"]*)"')


@method("scheduler.workers.get_certificate")
def get_certificate(ctx: Context, hostname: str) -> str:
    """The worker's public CURVE key as a ZeroMQ certificate file (``<hostname>.key``)."""
    require_admin(ctx, CHANGE)
    worker = lookup.worker(hostname, ctx)
    if not worker.public_key:
        raise fault(404, f"Worker '{hostname}' has no certificate (it connects without CURVE)")
    return f'metadata\ncurve\n    public-key = "{worker.public_key}"\n'


@method("scheduler.workers.set_certificate")
def set_certificate(ctx: Context, hostname: str, certificate: Any) -> bool:
    """Store the worker's public key, from a ZeroMQ certificate file or the bare 40-character Z85 key."""
    require_admin(ctx, CHANGE)
    worker = lookup.worker(hostname, ctx)
    text = as_text(certificate, "certificate")
    if "secret-key" in text:
        raise fault(400, "certificate: this is a secret key file (.key_secret); send the public one (.key)")
    quoted = PUBLIC_KEY_LINE.search(text)
    key = (quoted.group(1) if quoted else text).strip()
    if not Z85_KEY.fullmatch(key):
        raise fault(400, "certificate: expected a ZeroMQ certificate with a public-key, or a 40-character Z85 key")
    worker.public_key = key
    worker.save(update_fields=["public_key"])
    return True
