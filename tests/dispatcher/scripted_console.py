"""A board's console for unit tests of bootloader methods: run as the device's connection command.

    python scripted_console.py SCRIPT.json

The script (a JSON map) says what the board prints: ``banner`` (the bootloader's autoboot
message), then, with ``interrupt: true``, reads the interrupt (raw bytes, up to a newline or
0.5 s of quiet); then ``prompt`` after each line typed, until a line matches ``boot_command``:
it prints ``boot_output`` (kernel start, login prompt), takes ``login`` (when the script has
one) and answers with ``shell_prompt`` from then on. Every line received is appended to ``log`` (``interrupt: <hex>``
first), for the test to check what was typed.
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import termios
import tty


def read_interrupt(fd: int) -> bytes:
    received = b""
    while select.select([fd], [], [], 0.5)[0]:
        byte = os.read(fd, 1)
        received += byte
        if byte in (b"\r", b"\n"):
            break
    return received


def lines(fd: int):
    line = b""
    while True:
        byte = os.read(fd, 1)
        if not byte:
            return
        if byte in (b"\r", b"\n"):
            yield line.decode(errors="replace")
            line = b""
        else:
            line += byte


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        script = json.load(handle)
    log = open(script["log"], "a", encoding="utf-8")  # noqa: SIM115 - open for the whole session
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)

    def say(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        say(script.get("banner", ""))
        if script.get("interrupt"):
            log.write(f"interrupt: {read_interrupt(fd).hex()}\n")
            log.flush()
        say("\r\n" + script["prompt"])
        state = "bootloader"
        for line in lines(fd):
            log.write(line + "\n")
            log.flush()
            if state == "bootloader" and re.search(script["boot_command"], line):
                say("\r\n" + script["boot_output"])
                state = "login" if script.get("login") else "shell"
            elif state == "bootloader":
                say("\r\n" + script["prompt"])
            elif state == "login" and line == script.get("login"):
                say("\r\n" + script["shell_prompt"])
                state = "shell"
            elif state == "login":
                say("\r\nLogin incorrect\r\nlogin: ")
            else:
                say("\r\n" + script["shell_prompt"])
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    main()
