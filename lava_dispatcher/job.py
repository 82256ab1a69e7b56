"""One job: its pipeline, validation, run, cleanup after failure and always-run finalize."""

from __future__ import annotations

from typing import Any

from lava_common.constants import CLEANUP_TIMEOUT
from lava_common.exceptions import JobCanceled, JobError, LAVABug, LAVAError
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.alarm import JOB_LABEL
from lava_dispatcher.context import JobContext
from lava_dispatcher.local_files import job_local_file_errors
from lava_dispatcher.parser import build_pipeline, schema_check
from lava_dispatcher.plan import JobPlan
from lava_dispatcher.protocols.multinode_job import MultinodeSettings
from lava_dispatcher.qemu_args import check_context


class Job:
    def __init__(self, ctx: JobContext, pipeline: Pipeline, plan: JobPlan) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.plan = plan

    @classmethod
    def from_context(cls, ctx: JobContext) -> Job:
        for warning in schema_check(ctx.job):
            ctx.logger.warning(f"job definition: {warning}")
        pipeline, plan = build_pipeline(ctx.job, ctx.device, ctx.job_id)
        ctx.plan = plan
        return cls(ctx, pipeline, plan)

    @property
    def finalize(self) -> Action:
        return self.pipeline.actions[-1]

    def describe(self) -> dict[str, Any]:
        return {
            "job": {"job_name": self.ctx.job.get("job_name"), "timeout": self.job_timeout},
            "device": {"hostname": self.ctx.device.hostname, "device_type": self.ctx.device.device_type},
            "pipeline": self.pipeline.describe(),
        }

    @property
    def job_timeout(self) -> int | None:
        return self.pipeline.sources.job_timeout

    def validate(self) -> None:
        """Every check that needs no board; raises JobError listing every problem."""
        self.pipeline.validate()
        errors: list[str] = []
        for action in self.pipeline.actions:
            errors.extend(action.all_errors())
        job_timeout = self.job_timeout
        if job_timeout is None:
            errors.append("timeouts.job is required")
        else:
            for action in self.pipeline.actions[:-1]:
                if action.timeout.duration > job_timeout:
                    self.ctx.logger.warning(
                        f"{action.level} {action.name}: timeout {action.timeout.duration}s is longer "
                        f"than the job timeout {job_timeout}s"
                    )
        errors.extend(self._worker_access_errors())
        if errors:
            raise JobError("Invalid job data: " + "; ".join(errors))

    def _worker_access_errors(self) -> list[str]:
        """What the job would start or read on the worker: QEMU's arguments, local files."""
        errors = []
        qemu_params = [(spec or {}).get("parameters") or {}
                       for name, spec in self.ctx.device.boot_methods().items() if name.startswith("qemu")]
        if qemu_params:
            # the admin's tap network, which the template put where the job says `netdevice: tap`
            tap_network = next((str(params["tap_network"]) for params in qemu_params if params.get("tap_network")), "")
            errors += check_context(self.ctx.job.get("context"), tap_network)
        errors += job_local_file_errors(self.ctx.job, self.ctx.local_files)
        return errors

    def run(self) -> None:
        ctx = self.ctx
        failure: BaseException | None = None
        wall = ctx.deadlines.push(JOB_LABEL, self.job_timeout or 24 * 3600)
        body = Pipeline(sources=self.pipeline.sources)
        body.actions = self.pipeline.actions[:-1]
        try:
            self._join_group()
            body.run_actions(ctx)
        except BaseException as exc:  # noqa: BLE001 - reported below, after cleanup
            failure = exc
        finally:
            ctx.deadlines.pop(wall)
        if failure is not None:
            self._cleanup(failure)
        self._finalize()
        if failure is not None:
            if isinstance(failure, LAVAError):
                raise failure
            if isinstance(failure, KeyboardInterrupt):
                raise JobCanceled("canceled") from failure
            raise LAVABug(f"{type(failure).__name__}: {failure}") from failure

    def _join_group(self) -> None:
        """A MultiNode sub-job joins its group; the protocol then lives in ``ctx.multinode``."""
        settings = MultinodeSettings.from_job(self.ctx.job)
        if settings is None:
            return
        # deferred: the coordinator client and socket, which only a MultiNode job uses
        from lava_dispatcher.protocols.multinode import group_protocol

        config = self.ctx.dispatcher.raw.get("coordinator_config")
        self.ctx.multinode = group_protocol(settings, self.ctx.job_id, str(config) if config else None, self.ctx.logger)
        self.ctx.multinode.initialise()

    def _cleanup(self, failure: BaseException) -> None:
        ctx = self.ctx
        ctx.logger.info(f"Cleaning after the job: {failure}")
        deadline = ctx.deadlines.push("cleanup", CLEANUP_TIMEOUT)
        try:
            for action in self.pipeline.actions[:-1]:
                ctx.namespace = action.namespace
                try:
                    action.cleanup(ctx)
                except Exception as exc:  # noqa: BLE001 - one failed cleanup must not stop the others
                    ctx.logger.warning(f"cleanup of {action.name} failed: {exc}")
        except JobCanceled:
            ctx.logger.warning("cleanup interrupted by a cancel")
        finally:
            ctx.deadlines.pop(deadline)

    def _finalize(self) -> None:
        ctx = self.ctx
        finalize = Pipeline(sources=self.pipeline.sources)
        finalize.actions = [self.finalize]
        try:
            if ctx.multinode is not None:
                ctx.multinode.finalise()
            finalize.run_actions(ctx)
        except LAVAError as exc:
            ctx.logger.error(f"finalize: {exc}")
        finally:
            self.remove_scratch()

    def remove_scratch(self) -> None:
        for path in (self.ctx.scratch_dir, self.ctx.tftp_dir, *self.ctx.nfs_dirs):
            if path is not None and path.exists():
                # deferred: shutil imports bz2 and lzma, 3 % of `lava-run --validate`, which has no scratch
                import shutil

                shutil.rmtree(path, ignore_errors=True)
