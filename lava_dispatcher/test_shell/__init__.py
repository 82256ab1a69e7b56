"""lava-test-shell: what runs the test definitions on the board, and what reads its output.

Modules (each documents its public API in its docstring):
  definitions  fetch ``definitions`` entries (inline, git, url) and validate them
  overlay      build the ``/lava-<job id>`` tree (scripts, environment, run.sh/install.sh)
  ramdisk      pack the overlay as a tarball or append it to a cpio ramdisk
  signals      SignalParser: console output -> results and other typed events
  scripts/     the lava-* helper scripts (POSIX sh, work under busybox ash)
"""
