def pytest_configure(config):
    config.addinivalue_line("markers", "lab: starts the whole trial lab with ./lab.sh (slow)")
