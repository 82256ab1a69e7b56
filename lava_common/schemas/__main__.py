"""``python -m lava_common.schemas job FILE... | testdef FILE... | json-schema [--testdef]``."""

import argparse
import json
import sys
from collections.abc import Sequence

from lava_common.schemas import JobSchemaError, check_job_text, job_json_schema, validate_testdef
from lava_common.schemas.jsonschema import testdef_json_schema
from lava_common.yaml_loader import YAMLLoadError, load_yaml


def _validate_files(kind: str, paths: Sequence[str], strict: bool) -> int:
    status = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            status = 1
            continue
        warnings = []
        try:
            if kind == "job":
                warnings = check_job_text(text, strict=strict).warnings
            else:
                try:
                    data = load_yaml(text)
                except (YAMLLoadError, ValueError) as exc:
                    print(f"{path}: invalid\n  not valid YAML: {exc}")
                    status = 1
                    continue
                validate_testdef(data)
        except JobSchemaError as exc:
            print(f"{path}: invalid")
            for issue in exc.errors:
                print(f"  {issue}")
            status = 1
        else:
            print(f"{path}: valid")
            for issue in warnings:
                print(f"  warning: {issue}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lava_common.schemas",
                                     description="Validate LAVA job or test definitions.")
    commands = parser.add_subparsers(dest="command", required=True)
    job = commands.add_parser("job", help="validate job definition files")
    job.add_argument("--strict", action="store_true", help="refuse unknown keys in actions")
    job.add_argument("files", nargs="+")
    testdef = commands.add_parser("testdef", help="validate test definition files")
    testdef.add_argument("files", nargs="+")
    schema = commands.add_parser("json-schema", help="print the job schema as JSON Schema")
    schema.add_argument("--testdef", action="store_true", help="print the test definition schema instead")
    args = parser.parse_args(argv)
    if args.command == "json-schema":
        print(json.dumps(testdef_json_schema() if args.testdef else job_json_schema(), indent=2))
        return 0
    return _validate_files(args.command, args.files, getattr(args, "strict", False))


if __name__ == "__main__":
    sys.exit(main())
