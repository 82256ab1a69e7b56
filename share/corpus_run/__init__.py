"""share/corpus-run.py's parts: the reference's sample jobs adapted to our virtual boards and run there.

One concept a module, in the order a job meets them (doc/corpus-run.md):

* ``left_out``: LeftOut, why a job cannot run here;
* ``images``: our test images (share/test-images), their architectures and builds, compression;
* ``board_archive``: the job's board in our images: its prompts, hostname and login (an archive
  appended to our initramfs, a root filesystem, a BIOS-bootable disk);
* ``peers``: the run's file servers: a private dockerd, an nfs-ganesha, an HTTP server;
* ``boards``: the virtual board a job runs on (QEMU, the iPXE/GRUB PCs, the UEFI server, tap networks);
* ``testdefs``: the one local git repository of test definitions;
* ``adapter``: what is rewritten in a job (images, test definitions, test services) and why;
* ``adapt``: a whole job adapted: its board, QEMU's words, timeouts, its device;
* ``running``: lava-run on one job, its outcome;
* ``multinode``: a MultiNode group's roles at once, with our coordinator;
* ``survey``: the corpus's jobs in scope, run, their outcomes.

Importing the package puts the repository, tests/ and share/virtual-lab on sys.path, as the script did.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
