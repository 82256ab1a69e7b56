"""lava-coordinator: the MultiNode message broker, and the client the dispatcher uses to reach it.

A plain TCP daemon speaking the reference's wire format (``wire``), so that either side can be
swapped for Debian's ``lava-coordinator``. It never imports Django: it runs beside the server, or
alone on any host every worker can reach.

    python -m lava_common.coordinator --config /etc/lava-coordinator/lava-coordinator.conf

Modules: ``wire`` (framing), ``broker`` (group state, no I/O), ``config`` (lava-coordinator.conf),
``daemon`` (TCP server, logs), ``client`` (one request per connection, polling on ``wait``).
"""
