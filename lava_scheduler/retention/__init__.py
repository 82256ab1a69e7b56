"""Retention: old jobs removed, old logs compressed, in bounded batches.

Only Finished jobs are touched, so the scheduler (which locks queued jobs and
idle devices) never waits on a retention batch; each batch is one short
transaction, and the periodic task sleeps between batches.
"""
