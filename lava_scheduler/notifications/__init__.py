"""Job notifications: mail, IRC and HTTP callbacks from a job's ``notify:`` block.

When a job starts running or ends, ``triggers`` turns its ``notify:`` block
into one ``Notification`` row per recipient or callback, in the same
transaction as the state change: nothing is lost if a process dies. The
scheduler's side thread (``sender``) delivers them later, retrying with
back-off, and records every attempt; the job page lists them.
"""
