#!/usr/bin/env python3
"""Run the reference's sample jobs whose boards have a virtual peer here, adapted only in URLs and devices.

    .venv/bin/python share/corpus-run.py [--corpus ../shared/corpus] [--only NAME ...] [--keep DIR]
                                         [--jobs N] [--timeout-factor F]     (doc/corpus-run.md)

For each valid job of ``jobs/verdicts.json`` (MultiNode submissions split as the server splits
them, with share/corpus-coverage.py's reading) whose device type has a peer here (``qemu`` for
amd64/arm64/armhf/ppc, ``x86`` on the virtual iPXE board, ``docker``), the job is adapted:

* artefact URLs -> local test images of the same role and architecture (share/test-images):
  kernel, ramdisk (our busybox initramfs), whole-disk images (a BIOS-bootable disk made here:
  GRUB from build-bootdisk.sh, then our kernel and initramfs), device trees (armhf: from the
  kernel's package), nfsrootfs, modules; recompressed when the job names a compression, checksums
  recomputed; files a test step fetches from ``__FQDN__`` -> an HTTP server of ours;
* words our QEMU refuses (a device name's typo, a CPU the machine does not take) -> ours, said on
  the job's line (QEMU_FIXES);
* the board answers with the job's own prompts: a small cpio archive appended to our initramfs
  sets the hostname (``root@debian:`` -> hostname ``debian``), the shell prompt, and a login
  prompt with the job's password (or none) when the job logs in;
* git test-definition repositories -> one local git repository (file:// URL) holding
  ``../shared/corpus/testdefs`` (matched by file name) and share/corpus-run-testdefs (ours) at the
  paths the jobs name; a pinned ``revision`` of the reference's repository is dropped;
* test services -> a compose file of ours (busybox httpd) at the job's path, in a file:// tarball
  (the job's compression) or a local git repository; the docker device allows test services;
* the device -> one of our virtual boards; jobs with an ``nfsrootfs`` get our nfs-ganesha
  (share/virtual-lab/nfs_server.py) as the worker's NFS server;
* ``context: netdevice: tap`` -> the dictionary's ``tap_interface``, a tap made for the job with a
  DHCP server of ours on it (share/virtual-lab/tap_network.py; an NFS root: a ganesha of the job's on
  the tap's host address), removed when the job ends; our board's /init takes a DHCP lease.

Single-node jobs run through ``lava-run`` against the virtual board; MultiNode groups run each
role's ``lava-run`` at once with our coordinator (tests/coordinator_daemon.py); a secondary-connection
role (``connection: ssh``) runs on its host role's device, minimised as the server does. Prints one line per
job (Complete, Incomplete with the first error, or left out with the reason), then the counts.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from corpus_run import REPO  # the package (beside this script) puts the repository on sys.path
from corpus_run.survey import run_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--only", nargs="*", default=[], help="substrings of the job files to run")
    parser.add_argument("--keep", type=Path, help="keep each job's folder (logs, adapted job) under this one")
    parser.add_argument("--all", action="store_true", help="also list the jobs of other device types")
    parser.add_argument("--jobs", type=int, default=1, help="jobs (or groups) run at once")
    parser.add_argument("--timeout-factor", type=float, default=1,
                        help="multiply the jobs' timeouts (a loaded machine; each job's line says so)")
    args = parser.parse_args()
    progress = lambda outcome: print(f"... {outcome.label}: {outcome.state}", file=sys.stderr, flush=True)  # noqa: E731
    outcomes = run_all(args.corpus, args.only, args.keep, args.all, args.jobs, progress, args.timeout_factor)
    for outcome in outcomes:
        print(f"{outcome.label}: {outcome.state}" + (f" ({outcome.detail})" if outcome.detail else ""), flush=True)
    counts = Counter(o.state for o in outcomes)
    print(f"\n{counts['Complete']} Complete, {counts['Incomplete']} Incomplete, {counts['left out']} left out "
          f"of {len(outcomes)} jobs and sub-jobs with a virtual peer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
