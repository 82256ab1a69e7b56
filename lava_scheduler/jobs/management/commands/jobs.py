"""``lava-server manage jobs submit|validate|list|cancel|fail|rm|compress|json-schema``"""

import json
import sys
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from lava_common.schemas import job_json_schema
from lava_scheduler.commandline import SubcommandCommand, add_format_options, get_or_fail, print_rows
from lava_scheduler.events import wake_master, wake_scheduler
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.jobs.states import JobHealth, JobState
from lava_scheduler.jobs.submission import (
    SubmissionError,
    resolve_placement,
    resubmit_job,
    submit_job,
    validate_definition,
)
from lava_scheduler.lab.states import parse_choice
from lava_scheduler.retention.prune import BATCH, compress_logs, old_jobs, remove_jobs


def read_file(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


def parse_age(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise CommandError(f"age {text!r}: use a number and one of s, m, h, d (e.g. 12h)")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


class Command(SubcommandCommand):
    help = "Submit, validate, list, cancel and fail jobs"

    def add_subcommands(self, subparsers) -> None:
        submit = subparsers.add_parser("submit", help="submit job definitions; prints the new job ids")
        submit.add_argument("files", nargs="+", metavar="FILE")
        submit.add_argument("--submitter", required=True, help="the user the job belongs to")
        validate = subparsers.add_parser("validate", help="check job definitions without storing them")
        validate.add_argument("files", nargs="+", metavar="FILE")
        validate.add_argument("--strict", action="store_true", help="refuse unknown keys too")
        validate.add_argument("--lab", action="store_true", help="also check the device type, tags... exist here")
        listing = subparsers.add_parser("list", help="list jobs, newest first")
        listing.add_argument("--state", choices=[label.lower() for _, label in JobState.choices])
        listing.add_argument("--health", choices=[label.lower() for _, label in JobHealth.choices])
        listing.add_argument("--submitter")
        listing.add_argument("--newer-than", help="e.g. 12h, 7d")
        listing.add_argument("--limit", type=int, default=100)
        add_format_options(listing)
        cancel = subparsers.add_parser("cancel", help="cancel jobs")
        cancel.add_argument("ids", nargs="+", type=int, metavar="ID")
        resubmit = subparsers.add_parser("resubmit", help="submit jobs again; prints the new ids")
        resubmit.add_argument("ids", nargs="+", type=int, metavar="ID")
        resubmit.add_argument("--submitter", help="the new jobs' owner (default: the original submitter)")
        fail = subparsers.add_parser("fail", help="force jobs to Finished/Incomplete (a stuck job)")
        fail.add_argument("ids", nargs="+", type=int, metavar="ID")
        remove = subparsers.add_parser("rm", help="remove old finished jobs with their results and files")
        remove.add_argument("--older-than", required=True, help="ended longer ago than this, e.g. 30d")
        remove.add_argument("--state", default="finished", help="only finished jobs can be removed (the default)")
        remove.add_argument("--health", choices=[label.lower() for _, label in JobHealth.choices][1:])
        remove.add_argument("--submitter")
        remove.add_argument("--logs-only", action="store_true", help="keep the jobs, remove their log files")
        remove.add_argument("--dry-run", action="store_true", help="only count what would be removed")
        remove.add_argument("--batch", type=int, default=BATCH, help="jobs per transaction (default %(default)s)")
        compress = subparsers.add_parser("compress", help="compress the logs of old finished jobs")
        compress.add_argument("--older-than", required=True, help="ended longer ago than this, e.g. 7d")
        compress.add_argument("--batch", type=int, default=BATCH)
        subparsers.add_parser("json-schema", help="print the job definition schema as JSON Schema")

    def handle_submit(self, files: list[str], submitter: str, **_) -> None:
        user = get_or_fail(User, "user", username=submitter)
        failed = 0
        for path in files:
            try:
                jobs = submit_job(read_file(path), user)
            except SubmissionError as exc:
                failed += 1
                for error in exc.errors:
                    self.stderr.write(f"{path}: {error}")
                continue
            self.stdout.write(" ".join(job.display_id for job in jobs))
        if failed:
            raise CommandError(f"{failed} of {len(files)} job(s) refused; nothing stored for them")

    def handle_validate(self, files: list[str], strict: bool, lab: bool, **_) -> None:
        invalid = 0
        for path in files:
            try:
                data = validate_definition(read_file(path), strict=strict)
                if lab and "device_type" in data:
                    resolve_placement("", data["device_type"], data.get("tags", []), data.get("device"), data.get("worker"))
            except SubmissionError as exc:
                invalid += 1
                for error in exc.errors:
                    self.stdout.write(f"{path}: {error}")
            else:
                self.stdout.write(f"{path}: valid")
        if invalid:
            raise CommandError(f"{invalid} of {len(files)} job definition(s) invalid")

    def handle_list(self, state, health, submitter, newer_than, limit: int, **options) -> None:
        jobs = TestJob.objects.select_related("submitter", "actual_device").order_by("-id")
        if state:
            jobs = jobs.filter(state=parse_choice(JobState, state))
        if health:
            jobs = jobs.filter(health=parse_choice(JobHealth, health))
        if submitter:
            jobs = jobs.filter(submitter__username=submitter)
        if newer_than:
            jobs = jobs.filter(submit_time__gte=timezone.now() - parse_age(newer_than))
        rows = [
            (j.display_id, j.get_state_display(), j.get_health_display(), j.requested_device_type_id,
             j.actual_device_id, j.submitter.username, j.submit_time.isoformat(timespec="seconds"), j.description)
            for j in jobs[:limit]
        ]
        print_rows(options, ["id", "state", "health", "device_type", "device", "submitter", "submitted", "description"], rows)

    def handle_cancel(self, ids: list[int], **_) -> None:
        for job_id in ids:
            with transaction.atomic():
                job = TestJob.objects.select_for_update().filter(pk=job_id).first()
                if job is None:
                    raise CommandError(f"no job {job_id}")
                job.cancel("canceled by an admin (manage jobs cancel)")
                wake_master("cancel")
            self.stdout.write(f"job {job_id}: {job.get_state_display()}")

    def handle_resubmit(self, ids: list[int], submitter, **_) -> None:
        user = get_or_fail(User, "user", username=submitter) if submitter else None
        for job_id in ids:
            job = get_or_fail(TestJob, "job", pk=job_id)
            if job.health_check and user is None:
                raise CommandError(f"job {job_id} is a health check: give --submitter to resubmit it as a normal job")
            try:
                new = resubmit_job(job, user or job.submitter)
            except SubmissionError as exc:
                raise CommandError(f"job {job_id}: " + "; ".join(exc.errors)) from None
            self.stdout.write(" ".join(j.display_id for j in new))

    def handle_fail(self, ids: list[int], **_) -> None:
        for job_id in ids:
            with transaction.atomic():
                job = TestJob.objects.select_for_update().filter(pk=job_id).first()
                if job is None:
                    raise CommandError(f"no job {job_id}")
                job.go_state_finished(JobHealth.INCOMPLETE, "Infrastructure", "failed by an admin (manage jobs fail)")
                wake_scheduler("job-end")
            self.stdout.write(f"job {job_id}: Finished (Incomplete)")

    def handle_rm(self, older_than: str, state: str, health, submitter, logs_only: bool, dry_run: bool,
                  batch: int, **_) -> None:
        try:
            finished = parse_choice(JobState, state) == JobState.FINISHED
        except ValueError as exc:
            raise CommandError(f"--state: {exc}") from None
        if not finished:
            raise CommandError(f"--state {state}: only finished jobs can be removed (cancel or fail them first)")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        jobs = old_jobs(timezone.now() - parse_age(older_than),
                        parse_choice(JobHealth, health) if health else None, submitter)
        what = "the logs of " if logs_only else ""
        if dry_run:
            self.stdout.write(f"would remove {what}{jobs.count()} job(s) that ended more than {older_than} ago")
            return
        outcome = remove_jobs(jobs, batch, logs_only=logs_only)
        self.stdout.write(f"removed {what}{outcome.jobs} job(s) that ended more than {older_than} ago")

    def handle_compress(self, older_than: str, batch: int, **_) -> None:
        outcome = compress_logs(old_jobs(timezone.now() - parse_age(older_than)), max(1, batch))
        self.stdout.write(f"compressed {outcome.jobs} log(s), {outcome.bytes} bytes saved, {outcome.errors} error(s)")
        if outcome.errors:
            raise CommandError(f"{outcome.errors} log(s) could not be compressed (see above)")

    def handle_json_schema(self, **_) -> None:
        self.stdout.write(json.dumps(job_json_schema(), indent=2))
