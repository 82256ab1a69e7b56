"""Validation of job definitions and test definitions.

``validate_job`` reports every problem at once, each with a path such as
``actions[2].boot.method``; nothing but ``JobSchemaError`` ever escapes, whatever
the input. The device configuration schema lives in ``device.py``.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

from lava_common.schemas.engine import Context, JobSchemaError, SchemaIssue
from lava_common.schemas.job import check_job
from lava_common.schemas.jsonschema import job_json_schema
from lava_common.schemas.testdef import check_testdef
from lava_common.yaml_loader import YAMLLoadError, load_yaml

__all__ = [
    "JobSchemaError",
    "SchemaIssue",
    "ValidJob",
    "check_job_text",
    "job_json_schema",
    "validate_job",
    "validate_job_text",
    "validate_testdef",
]


class ValidJob(NamedTuple):
    """An accepted definition and what was accepted only with a warning (unknown keys...)."""

    definition: dict[str, Any]
    warnings: list[SchemaIssue]


def _run(check, data: Any, ctx: Context) -> list[SchemaIssue]:
    try:
        check(data, ctx)
    except RecursionError:
        ctx.error("", "definition is nested too deeply")
    except Exception as exc:  # a validator bug must still reach the user as a validation error
        ctx.error("", f"internal validator error ({type(exc).__name__}); please report this definition")
    if ctx.errors:
        raise JobSchemaError(ctx.errors)
    return ctx.warnings


def validate_job(data: Any, strict: bool = False, extra_context_variables: Iterable[str] = (),
                 refuse_long_timeouts: bool = True) -> list[SchemaIssue]:
    """Raise JobSchemaError listing every problem of a parsed job definition; return the warnings.

    ``refuse_long_timeouts=False`` is lava-run's mode: a timeout longer than
    the job's is left to its validate phase, which only warns.
    """
    ctx = Context(strict, frozenset(extra_context_variables), refuse_long_timeouts)
    return _run(check_job, data, ctx)


def check_job_text(text: str | bytes, strict: bool = False, extra_context_variables: Iterable[str] = ()) -> ValidJob:
    """Parse (bounded, safe YAML) and validate; the definition and the warnings, or JobSchemaError."""
    try:
        data = load_yaml(text)
    except YAMLLoadError as exc:
        raise JobSchemaError([SchemaIssue("", f"not valid YAML: {exc}")]) from None
    except Exception as exc:  # e.g. an integer too long to convert
        raise JobSchemaError([SchemaIssue("", f"not valid YAML: {exc}")]) from None
    return ValidJob(data, validate_job(data, strict, extra_context_variables))


def validate_job_text(
    text: str | bytes, strict: bool = False, extra_context_variables: Iterable[str] = ()
) -> dict[str, Any]:
    """Parse (bounded, safe YAML) and validate; return the job definition."""
    return check_job_text(text, strict, extra_context_variables).definition


def validate_testdef(data: Any) -> None:
    """Raise JobSchemaError listing every problem of a parsed test definition."""
    _run(lambda value, ctx: check_testdef(value, "", ctx), data, Context())
