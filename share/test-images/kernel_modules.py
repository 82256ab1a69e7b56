#!/usr/bin/env python3
"""Copies kernel modules and what they need into a ramdisk, printing the order to load them in.

    kernel_modules.py TREE DEST MODULE...

TREE is a kernel package's lib/modules/VERSION/kernel. The host has no kmod for the guest's
kernel, so each module's prerequisites come from the ``depends=`` string of its .modinfo; a
module with no .ko file is built into the kernel and skipped. Compressed modules (.ko.xz) are
written uncompressed, as busybox's insmod reads only plain ones.
"""

import lzma
import re
import sys
from pathlib import Path


def content(path: Path) -> bytes:
    return lzma.decompress(path.read_bytes()) if path.name.endswith(".xz") else path.read_bytes()


def main() -> None:
    tree, dest, wanted = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    files = {path.name.split(".ko")[0].replace("-", "_"): path for path in tree.rglob("*.ko*")}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in files:
            return
        found = re.search(rb"depends=([^\0]*)\0", content(files[name]))
        for dependency in filter(None, (found.group(1).decode() if found else "").split(",")):
            visit(dependency.replace("-", "_"))
        order.append(name)

    for name in wanted:
        visit(name)
    for name in order:
        plain = files[name].name.removesuffix(".xz")
        (dest / plain).write_bytes(content(files[name]))
        print(plain)


if __name__ == "__main__":
    main()
