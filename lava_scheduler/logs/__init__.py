"""Job logs on disk: ``output.yaml`` plus a line-offset index ``output.idx``."""
