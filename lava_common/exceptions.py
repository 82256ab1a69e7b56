"""Error classes shared by the dispatcher and the server.

Every error carries an ``error_type``: it ends up in the final ``lava.job``
result, and the server uses it to tell infrastructure failures (which make
the device's health Unknown) apart from failures of the job or the test.
"""


class LAVAError(Exception):
    error_type = "Bug"
    error_help = "An unexpected error happened"


class InfrastructureError(LAVAError):
    error_type = "Infrastructure"
    error_help = "The lab's infrastructure failed: the device or worker needs attention"


class ConnectionClosedError(InfrastructureError):
    error_help = "The connection to the device was closed"


class JobError(LAVAError):
    error_type = "Job"
    error_help = "The job definition or its artefacts are wrong"


class TestError(LAVAError):
    __test__ = False  # not a pytest test class
    error_type = "Test"
    error_help = "The test failed"


class LAVABug(LAVAError):
    error_type = "Bug"
    error_help = "This is a bug in LAVA"


class ConfigurationError(LAVAError):
    error_type = "Configuration"
    error_help = "The device or dispatcher configuration is wrong"


class JobCanceled(LAVAError):
    error_type = "Canceled"
    error_help = "The job was canceled"


class LAVATimeoutError(LAVAError):
    error_type = "LAVATimeout"
    error_help = "An action took longer than its timeout"


# error types that mean the lab, not the job, is at fault: they drive device health
INFRASTRUCTURE_ERROR_TYPES = frozenset({"Bug", "Configuration", "Infrastructure"})
