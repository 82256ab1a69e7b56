"""lava-worker: keeps the link to lava-master and runs one lava-run per job (see doc/worker-protocol.md)."""
