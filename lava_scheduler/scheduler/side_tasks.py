"""Work the scheduler process does beside its passes, in threads of their own.

Notifications (and, periodically, retention) run here rather than in a new
daemon: every lab already runs exactly one scheduler, so no new service to
install and watch; each thread has its own database connection and never
holds the scheduler's locks, so a slow SMTP, IRC or HTTP peer never delays a
scheduling pass. ``--no-side-tasks`` turns them off (to run them elsewhere).
"""

import threading
from collections.abc import Callable

from lava_scheduler.notifications import sender
from lava_scheduler.retention import periodic


def start(should_stop: Callable[[], bool]) -> list[threading.Thread]:
    threads = [sender.start_thread(should_stop), periodic.start_thread(should_stop)]
    return [thread for thread in threads if thread is not None]
