"""lava-publisher: the lab's events relayed to ZeroMQ subscribers and to websocket clients on ``/ws/``.

What the lab emits is ``lava_scheduler.publisher``; this daemon
(``lava-server manage lava-publisher``) re-publishes it, each websocket client
getting only what its user may see (``access``).
"""
