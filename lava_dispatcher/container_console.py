"""The console of a container that the job started: closing it also removes the container.

A container is the board (``boot: method: docker``/``lxc``) or a test shell's
host (``test: docker:``): stopping the console process alone would leave it
running, so the console carries how to remove it and how to tell why it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lava_common.exceptions import ConnectionClosedError, LAVAError
from lava_dispatcher.console import Console
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.processes import ProcessRegistry


class ContainerConsole(Console):
    def __init__(
        self,
        command: list[str],
        logger: JobLogger,
        processes: ProcessRegistry,
        name: str,
        maxread: int,
        env: dict[str, str] | None,
        remove: Callable[[], None],
        exit_status: Callable[[], str],
    ) -> None:
        super().__init__(command, logger, processes, name, maxread, env=env)
        self.owns_board = True  # the container is the board: power-off removes it
        self._remove: Callable[[], None] | None = remove
        self._exit_status = exit_status

    def expect(self, patterns: list[Any], timeout: float, what: str = "", eof_ok: bool = False,
               log_partial: bool = True) -> int:
        try:
            return super().expect(patterns, timeout, what, eof_ok, log_partial)
        except ConnectionClosedError as exc:
            # "the connection closed" alone hides that the container itself has ended, and how
            raise ConnectionClosedError(f"{exc} ({self._exit_status()})") from exc

    def stop_process(self) -> None:
        super().stop_process()
        remove, self._remove = self._remove, None
        if remove is None:
            return
        try:
            remove()
        except LAVAError as exc:
            self.logger.warning(str(exc))
