"""``system.getCapabilities``: the XML-RPC extensions this server speaks (the de-facto introspection spec)."""

from typing import Any

from lava_server.xmlrpc.registry import Context, method

CAPABILITIES = {
    "introspect": {"specUrl": "http://xmlrpc-c.sourceforge.net/xmlrpc-c/introspection.html", "specVersion": 1},
    "faults_interop": {"specUrl": "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php", "specVersion": 20010516},
    "system.multicall": {"specUrl": "http://www.xmlrpc.com/discuss/msgReader$1208", "specVersion": 1},
}


@method("system.getCapabilities")
def get_capabilities(ctx: Context) -> dict[str, Any]:
    """Which XML-RPC extensions are supported: introspection, interoperable fault codes, multicall."""
    return CAPABILITIES
