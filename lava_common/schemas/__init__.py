"""Validation of job definitions and test definitions.

``validate_job`` reports every problem at once, each with a path such as
``actions[2].boot.method``; nothing but ``JobSchemaError`` ever escapes, whatever
the input. The device configuration schema lives in ``device.py``.
"""

from collections.abc import Iterable
from typing import Any

from lava_common.schemas.engine import Context, JobSchemaError, SchemaIssue
from lava_common.schemas.job import check_job
from lava_common.schemas.jsonschema import job_json_schema
from lava_common.schemas.testdef import check_testdef
from lava_common.yaml_loader import YAMLLoadError, load_yaml

__all__ = [
    "JobSchemaError",
    "SchemaIssue",
    "job_json_schema",
    "validate_job",
    "validate_job_text",
    "validate_testdef",
]


def _run(check, data: Any, ctx: Context) -> None:
    try:
        check(data, ctx)
    except RecursionError:
        ctx.error("", "definition is nested too deeply")
    except Exception as exc:  # a validator bug must still reach the user as a validation error
        ctx.error("", f"internal validator error ({type(exc).__name__}); please report this definition")
    if ctx.errors:
        raise JobSchemaError(ctx.errors)


def validate_job(data: Any, strict: bool = False, extra_context_variables: Iterable[str] = ()) -> None:
    """Raise JobSchemaError listing every problem of a parsed job definition."""
    ctx = Context(strict, frozenset(extra_context_variables))
    _run(check_job, data, ctx)


def validate_job_text(
    text: str | bytes, strict: bool = False, extra_context_variables: Iterable[str] = ()
) -> dict[str, Any]:
    """Parse (bounded, safe YAML) and validate; return the job definition."""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        raise JobSchemaError([SchemaIssue("", f"not valid YAML: {exc}")]) from None
    except Exception as exc:  # e.g. an integer too long to convert
        raise JobSchemaError([SchemaIssue("", f"not valid YAML: {exc}")]) from None
    validate_job(data, strict, extra_context_variables)
    return data


def validate_testdef(data: Any) -> None:
    """Raise JobSchemaError listing every problem of a parsed test definition."""
    _run(lambda value, ctx: check_testdef(value, "", ctx), data, Context())
