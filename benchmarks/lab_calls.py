#!/usr/bin/env python3
"""How fast a running lab answers a keep-alive API client such as lavacli.

    benchmarks/lab_calls.py URL USERNAME TOKEN      e.g. the lines ./lab.sh prints

Calls ``system.version``, ``scheduler.jobs.list`` and ``scheduler.jobs.validate``
over one kept-alive HTTP connection (requests, as lavacli) for a few seconds
each and prints calls per second: compare ``./lab.sh`` (gunicorn) with
``./lab.sh --dev-server``.
"""

import argparse
import xmlrpc.client

from api import FALLBACK_JOB, RequestsTransport, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the lab's web address, e.g. http://127.0.0.1:8000")
    parser.add_argument("username")
    parser.add_argument("token")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    proxy = xmlrpc.client.ServerProxy(f"{args.url.rstrip('/')}/RPC2", allow_none=True,
                                      transport=RequestsTransport((args.username, args.token)))
    calls = {
        "system.version": lambda: proxy.system.version(),
        "scheduler.jobs.list": lambda: proxy.scheduler.jobs.list(),
        "scheduler.jobs.validate": lambda: proxy.scheduler.jobs.validate(FALLBACK_JOB, False),
    }
    for name, function in calls.items():
        figure, count = rate(function, args.seconds)
        print(f"{name:<24} {figure:7.0f} calls/s  ({count} calls, one kept-alive connection)")


if __name__ == "__main__":
    main()
