#!/usr/bin/env python3
"""How fast a running lab answers a keep-alive API client such as lavacli.

    benchmarks/lab_calls.py URL USERNAME TOKEN      e.g. the lines ./lab.sh prints

Calls ``system.version``, ``scheduler.jobs.list`` and ``scheduler.jobs.validate``
over one kept-alive HTTP connection for a few seconds each and prints calls
per second, with xmlrpc.client's transport and with lavacli's (requests,
whose client side alone costs about 1 ms a call): compare ``./lab.sh``
(gunicorn) with ``./lab.sh --dev-server``.
"""

import argparse
import xmlrpc.client
from urllib.parse import urlsplit

from api import FALLBACK_JOB, WholeBodyTransport, lavacli_proxy, rate, variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the lab's web address, e.g. http://127.0.0.1:8000")
    parser.add_argument("username")
    parser.add_argument("token")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    address = urlsplit(args.url)
    lean = xmlrpc.client.ServerProxy(f"{address.scheme}://{args.username}:{args.token}@{address.netloc}/RPC2",
                                     allow_none=True, transport=WholeBodyTransport())
    lavacli, lavacli_name = lavacli_proxy(address.port or 80, args.username, args.token, address.hostname)
    next_definition = variants(FALLBACK_JOB)
    for client_name, proxy in (("xmlrpc.client", lean), (lavacli_name, lavacli)):
        print(f"client: {client_name}")
        calls = {
            "system.version": lambda p=proxy: p.system.version(),
            "scheduler.jobs.list": lambda p=proxy: p.scheduler.jobs.list(),
            "scheduler.jobs.validate": lambda p=proxy: p.scheduler.jobs.validate(next_definition(), False),
        }
        for name, function in calls.items():
            figure, count = rate(function, args.seconds)
            print(f"  {name:<24} {figure:7.0f} calls/s  ({count} calls, one kept-alive connection)")


if __name__ == "__main__":
    main()
