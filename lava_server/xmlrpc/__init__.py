"""XML-RPC API at /RPC2 (lavacli)."""
