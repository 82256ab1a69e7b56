"""Packaging tests: fast checks of debian/ and etc/, and the slow install check."""


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds and installs the Debian packages on this machine (slow, root)"
    )
