"""The job and test definition schemas published as JSON Schema (draft 2020-12), for editors.

Rendered from the same declarations the validator runs, so they cannot drift.
Rules that span several keys (timeouts against the job's, namespaces, roles)
are only in the validator.
"""

from typing import Any

from lava_common.schemas.engine import render_json_schema
from lava_common.schemas.job import JOB
from lava_common.schemas.testdef import TESTDEF

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def job_json_schema() -> dict[str, Any]:
    schema = render_json_schema(JOB)
    return {"$schema": DIALECT, "title": "LAVA job definition", **schema}


def testdef_json_schema() -> dict[str, Any]:
    schema = render_json_schema(TESTDEF)
    return {"$schema": DIALECT, "title": "Lava-Test Test Definition 1.0", **schema}
