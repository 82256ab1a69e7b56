"""A job's results as TAP version 13 (``/api/v0.2/jobs/<id>/tap13/``).

One test point per case, in the order they arrived: ``ok``, ``not ok`` with
the log lines between the case's markers as YAML diagnostics, ``# SKIP`` for
skip and ``# TODO`` for unknown, as the reference does.
"""

from lava_common.yaml_loader import dump_yaml
from lava_scheduler.logs.store import LogStore, job_output_dir
from lava_scheduler.results.export import case_rows, log_excerpt


def _indented(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


def to_tap13(job) -> str:
    rows = case_rows(job)
    store = LogStore(job_output_dir(job))
    out = ["TAP version 13\n", f"1..{len(rows)}\n"]
    suite = None
    for number, row in enumerate(rows, start=1):
        if row["suite"] != suite:
            suite = row["suite"]
            out.append(f"# {suite}\n")
        name = f"{row['suite']}.{row['name']}".replace("#", "\\#")
        result = row["result"]
        point = f"{'not ok' if result == 'fail' else 'ok'} {number} - {name}"
        if result == "skip":
            point += " # SKIP"
        elif result == "unknown":
            point += " # TODO result unknown"
        out.append(point + "\n")
        diagnostics = {}
        if row["measurement"] is not None:
            diagnostics["measurement"] = row["measurement"]
            diagnostics["unit"] = row["unit"]
        if result == "fail":
            excerpt = log_excerpt(store, row["log_start_line"], row["log_end_line"])
            if excerpt:
                diagnostics["log"] = excerpt
        if diagnostics:
            out.append("  ---\n" + _indented(dump_yaml(diagnostics)) + "  ...\n")
    return "".join(out)
