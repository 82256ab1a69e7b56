"""How jobs and lab objects look in REST answers (display names for states, as XML-RPC)."""

from rest_framework import serializers

from lava_scheduler.jobs.masking import readable_definition
from lava_scheduler.jobs.models import TestJob
from lava_scheduler.lab.models import Alias, Device, DeviceType, Tag, Worker


class JobSerializer(serializers.ModelSerializer):
    submitter = serializers.CharField(source="submitter.username", read_only=True)
    state = serializers.CharField(source="get_state_display", read_only=True)
    health = serializers.CharField(source="get_health_display", read_only=True)

    class Meta:
        model = TestJob
        fields = [
            "id", "sub_id", "target_group", "description", "submitter", "requested_device_type",
            "requested_device", "requested_worker", "actual_device", "health_check", "priority", "is_public",
            "state", "health", "submit_time", "start_time", "end_time", "failure_comment", "error_type",
            "error_msg", "metadata", "log_lines",
        ]
        read_only_fields = fields


class JobDetailSerializer(JobSerializer):
    """A job with its definitions, their secrets masked unless the caller may read them."""

    definition = serializers.SerializerMethodField()
    original_definition = serializers.SerializerMethodField()

    def _readable(self, job: TestJob, text: str) -> str:
        request = self.context.get("request")
        return readable_definition(text, job, request.user if request is not None else None)

    def get_definition(self, job: TestJob) -> str:
        return self._readable(job, job.definition)

    def get_original_definition(self, job: TestJob) -> str:
        return self._readable(job, job.original_definition)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "definition", "original_definition"]
        read_only_fields = fields


class DeviceSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="get_state_display", read_only=True)
    health = serializers.CharField(source="get_health_display", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Tag.objects.all(), required=False)

    class Meta:
        model = Device
        fields = [
            "hostname", "device_type", "device_version", "description", "physical_owner", "physical_group",
            "tags", "state", "health", "worker_host", "is_synced",
        ]


class DeviceTypeSerializer(serializers.ModelSerializer):
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = DeviceType
        fields = [
            "name", "description", "architecture", "processor", "cpu_model", "bits", "core_count",
            "health_frequency", "health_denominator", "disable_health_check", "display", "aliases",
        ]


class WorkerSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="get_state_display", read_only=True)
    health = serializers.CharField(source="get_health_display", read_only=True)

    class Meta:
        model = Worker
        fields = ["hostname", "description", "state", "health", "last_ping", "job_limit", "version"]
        read_only_fields = ["last_ping", "version"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "description"]


class AliasSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alias
        fields = ["name", "device_type"]
