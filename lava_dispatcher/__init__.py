"""The dispatcher: runs one job on one device. Never imports Django."""
