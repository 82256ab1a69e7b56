"""The lab's events: job, device, worker and test-case changes, as the reference publishes them.

Any process that changes a job, device or worker pushes a 5-frame message
(``topic, uuid, ISO time, username, JSON data``, ``messages``) to the
publisher's internal PULL socket once its transaction commits (``emit``);
the publisher daemon (``lava_server.event_stream``, ``lava-server manage
lava-publisher``) re-publishes it on a ZeroMQ PUB socket and to websocket
clients on ``/ws/`` (what ``lavacli events listen`` reads).
"""
