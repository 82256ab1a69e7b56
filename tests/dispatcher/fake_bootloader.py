"""A bootloader shell for unit tests of the interrupt rules: run as a board's console command.

Prints an autoboot banner, reads the interrupt (raw bytes, up to a newline or 0.5 s
of quiet), reports it in hex, then answers each line typed at its ``fake=>``
prompt with ``got: <line>``.
"""

import os
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


def main() -> None:
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        sys.stdout.write("Fake bootloader 1.0\r\nPress any key to stop autoboot\r\n")
        sys.stdout.flush()
        sys.stdout.write(f"interrupt: {read_interrupt(fd).hex()}\r\nfake=> ")
        sys.stdout.flush()
        line = b""
        while True:
            byte = os.read(fd, 1)
            if not byte:
                return
            if byte in (b"\r", b"\n"):
                sys.stdout.write(f"\r\ngot: {line.decode()}\r\nfake=> ")
                sys.stdout.flush()
                line = b""
            else:
                line += byte
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    main()
