"""Job-level protocols (``protocols:`` of a job definition) that lava-run serves while the job runs."""
