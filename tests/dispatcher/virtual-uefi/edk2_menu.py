#!/usr/bin/env python3
"""A console that behaves like EDK2's numbered boot menu (the one Arm boards show), then "boots".

OVMF draws no such menu (its boot manager is a form browsed with arrow keys),
so the menu protocol is exercised against this script: it counts down, shows
numbered entries after a key, takes a number, asks for the TFTP path of the
kernel when "PXE Boot" is chosen or runs a shell when "Shell" is, and finally
prints a kernel banner and a shell prompt. What it was sent is appended to the file named by argv[1].
"""

import sys
import time
import tty

record = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - held for the life of the console
tty.setraw(0)  # a serial line: every key arrives as typed, nothing is echoed by a line discipline


def say(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def read_line() -> str | None:
    """One line as typed (None at the end of input), echoed as a firmware would."""
    chars = []
    while not chars or chars[-1] != "\n":
        char = sys.stdin.read(1)
        if not char:
            return None
        chars.append(char)
    line = "".join(chars)
    record.write(repr(line) + "\n")
    return line.strip()


say("UEFI firmware (version 1.0)\r\nThe default boot selection will start in   3 seconds\r\n")
key = sys.stdin.read(1)
record.write(repr(key) + "\n")
menu = ["Shell", "PXE Boot", "Boot Manager", "Reboot"]
while True:
    say("".join(f"[{index}] {entry}\r\n" for index, entry in enumerate(menu, start=1)) + "Start: ")
    choice = read_line()
    if choice == "1":  # the shell: commands end with a carriage return; 'boot...' starts the kernel
        say("UEFI Interactive Shell v2.2\r\nShell> ")
        while (command := read_line()) is not None and not command.startswith("boot"):
            say(f"{command}\r\nShell> ")
        say("EFI stub: Booting Linux Kernel...\r\n[    0.000000] Linux version 6.1.0 (fake)\r\nroot@lava:~# ")
        break
    if choice == "2":
        say("Kernel path: ")
        path = read_line()
        say(f"Loading {path}\r\nEFI stub: Booting Linux Kernel...\r\n")
        time.sleep(0.2)
        say("[    0.000000] Linux version 6.1.0 (fake)\r\nroot@lava:~# ")
        break
    say(f"unknown choice '{choice}'\r\n")
while (line := read_line()) is not None:
    say(f"{line}\r\nroot@lava:~# ")
