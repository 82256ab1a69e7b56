"""The one-sentence `failure_comment` of a job that did not complete.

Users read it at the end of `lavacli jobs logs` and on the job page, so it
says what ended the job in words, never raw log lines: those stay in the
job's log, and lava-run's stderr in a file beside it (``STDERR_FILE``).
"""

STDERR_FILE = "lava-run-stderr.txt"
MAX_LENGTH = 300


def failure_sentence(error_type: str, error_msg: str) -> str:
    """``"<Type> error: <first line of the message>"``, short enough for one line."""
    lines = [line.strip() for line in (error_msg or "").splitlines() if line.strip()]
    message = lines[0] if lines else "the job failed without an error message"
    named = error_type and error_type != "Canceled"  # "canceled: ..." says it already
    sentence = f"{error_type} error: {message}" if named else message
    if len(sentence) > MAX_LENGTH:
        sentence = sentence[: MAX_LENGTH - 1].rstrip() + "…"
    return sentence
