"""The lab on the server side: devices, workers, jobs, results, scheduling."""
