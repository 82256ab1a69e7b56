"""Browser tests: Playwright driving Debian's Chromium against a live server and a real lab.

They skip, saying why, when Chromium or the Python ``playwright`` package is
missing (``apt-get install chromium``; ``pip install playwright``; never
``playwright install``: the system Chromium is used).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LAVA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


def screenshots_dir() -> Path:
    folder = Path(os.environ.get("LAVA_ARTIFACTS_DIR") or "/tmp/lava-artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)"
    return None


def pytest_runtest_setup(item) -> None:
    # before any fixture: no lab is started for a test that cannot run
    if item.get_closest_marker("browser"):
        reason = _missing()
        if reason:
            pytest.skip(reason)


@pytest.fixture
def chromium(monkeypatch):
    """Chromium for one test (started after, and stopped before, the test's database fixtures)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; the test's own ORM
    # calls are still plain synchronous code, so Django's guard must not refuse them
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # with an event loop running, Django keeps the test's database connection in a
        # context-local slot: close it here, or it outlives the test and blocks the test
        # database's removal
        from django.db import connections

        connections.close_all()


@pytest.fixture
def browser_page(chromium):
    """``new_page()``: a page in a fresh browser context (its own cookies)."""
    contexts = []

    def new_page():
        context = chromium.new_context(viewport={"width": 1360, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()
