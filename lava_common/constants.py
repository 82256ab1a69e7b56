"""Constants shared by server and dispatcher (names and values follow the reference)."""

CLEANUP_TIMEOUT = 300
HTTP_DOWNLOAD_TIMEOUT = 60
HTTP_DOWNLOAD_CHUNK_SIZE = 32768
TFTP_SIZE_LIMIT = 4 * 1024**3

# one log record is capped at this many characters
LOG_LINE_LIMIT = 100_000

# the log levels a log record may carry
LOG_LEVELS = (
    "exception",
    "error",
    "warning",
    "info",
    "debug",
    "input",
    "target",
    "feedback",
    "results",
    "event",
)

# submission limits: bigger or deeper job definitions are refused before parsing further
JOB_DEFINITION_MAX_BYTES = 1024 * 1024
YAML_MAX_DEPTH = 64
YAML_MAX_NODES = 200_000
