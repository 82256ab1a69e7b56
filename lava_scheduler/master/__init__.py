"""lava-master: the ZeroMQ endpoint workers connect to (doc/worker-protocol.md)."""
