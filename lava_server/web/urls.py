"""Addresses of the web UI (the reference's where lavacli or habits rely on them)."""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from lava_server.login_gate import gated
from lava_server.web.views import accounts, joblog, jobs, lab, multinode, overview, results, submit

JOB = r"(?P<job_id>\d+(?:\.\d+)?)"

urlpatterns = [
    path("", gated(overview.lab_overview), name="web-overview"),
    path("scheduler/jobs", gated(jobs.job_list), name="web-jobs"),
    re_path(rf"^scheduler/job/{JOB}$", gated(jobs.job_page), name="web-job"),
    re_path(rf"^scheduler/job/{JOB}/definition$", gated(jobs.job_definition), name="web-job-definition"),
    re_path(rf"^scheduler/job/{JOB}/cancel$", jobs.job_cancel, name="web-job-cancel"),
    re_path(rf"^scheduler/job/{JOB}/resubmit$", jobs.job_resubmit, name="web-job-resubmit"),
    re_path(rf"^scheduler/job/{JOB}/multinode$", gated(multinode.group_page), name="web-job-multinode"),
    re_path(rf"^scheduler/job/{JOB}/log$", gated(joblog.log_lines), name="web-job-log"),
    re_path(rf"^scheduler/job/{JOB}/log/raw$", gated(joblog.log_raw), name="web-job-log-raw"),
    path("scheduler/jobsubmit", submit.submit_page, name="web-submit"),
    path("scheduler/devices", gated(lab.device_list), name="web-devices"),
    path("scheduler/device/<str:hostname>", gated(lab.device_page), name="web-device"),
    path("scheduler/device/<str:hostname>/health", lab.device_set_health, name="web-device-health"),
    path("scheduler/device_types", gated(lab.device_type_list), name="web-device-types"),
    path("scheduler/device_type/<str:name>", gated(lab.device_type_page), name="web-device-type"),
    path("scheduler/workers", gated(lab.worker_list), name="web-workers"),
    path("scheduler/worker/<str:hostname>", gated(lab.worker_page), name="web-worker"),
    re_path(rf"^results/{JOB}$", gated(results.job_results), name="web-results"),
    re_path(rf"^results/{JOB}/(?P<fmt>csv|yaml|junit)$", gated(results.job_export), name="web-results-export"),
    re_path(rf"^results/{JOB}/(?P<suite>[^/]+)$", gated(results.suite_results), name="web-suite"),
    re_path(rf"^results/{JOB}/(?P<suite>[^/]+)/(?P<fmt>csv|yaml)$", gated(results.suite_export), name="web-suite-export"),
    re_path(rf"^results/{JOB}/(?P<suite>[^/]+)/(?P<case>.+)$", gated(results.case_results), name="web-case"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/tokens/", accounts.token_page, name="web-tokens"),
]
