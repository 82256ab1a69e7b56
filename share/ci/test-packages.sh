#!/bin/bash
# CI check of the Debian packages, on this machine (root, no systemd needed):
# build them from a clean export of HEAD, install them with apt, start
# PostgreSQL, apache2 and the lab's daemons through "service", then check that
# the web UI answers through apache on port 80, lavacli talks to /RPC2 through
# apache, add_device.py adds a QEMU board, the local worker runs a QEMU job to
# Complete, "service lava-server restart" and "apache2ctl restart" work, and
# "apt-get purge" leaves no daemon running. lintian runs on the packages
# meanwhile: errors fail the check, warnings are listed.
#
#   share/ci/test-packages.sh [--keep] [--debs DIR]
#
# --keep      leave the lab installed and running at the end (no purge)
# --debs DIR  install the packages in DIR instead of building them
#
# The machine is shared: apache2 and the PostgreSQL "main" cluster are stopped
# again at the end when they were not running before, the packages are purged.
# no pipefail: "producer | grep -q" must not fail when grep stops reading early
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
KEEP=no
DEBS=
while [ $# -gt 0 ]; do
    case $1 in
        --keep) KEEP=yes ;;
        --debs) DEBS=$(cd "$2" && pwd); shift ;;
        -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "test-packages.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

PACKAGES="lava lava-server lava-dispatcher lava-common lava-dev"
WORK=$(mktemp -d /tmp/lava-packages.XXXXXX)
# the job's images, where lava-worker's user may read them (not in root's home)
IMAGES=$(mktemp -d /tmp/lava-packages-images.XXXXXX)
chmod 0755 "$IMAGES"
JOB_TIMEOUT=300
START=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# another apt (a test run's setup-host.sh) may hold dpkg's lock for a while: wait for it rather than fail
APT_GET="apt-get -o DPkg::Lock::Timeout=600"

say() { printf '== [%3ss] %s\n' $(($(date +%s) - START)) "$*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# wait_until SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
wait_until() {
    local limit=$1 what=$2
    shift 2
    local end=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || fail "$what (not within ${limit}s)"
        sleep 1
    done
}
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }
lava_processes() { pgrep -f '^/usr/lib/lava/venv/bin/python' || true; }
web_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1$1"; }
web_ok() { [ "$(web_status "$1")" = 200 ]; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages"
command -v curl >/dev/null || $APT_GET install -y -q curl >/dev/null || fail "curl is needed"
# what building the packages needs, on a fresh machine
BUILD_TOOLS="debhelper dpkg-dev fakeroot lintian python3-venv ca-certificates"
missing_tools=$(for p in $BUILD_TOOLS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done)
if [ -n "$missing_tools" ]; then
    $APT_GET update -q >/dev/null
    $APT_GET install -y -q --no-install-recommends $missing_tools >/dev/null || fail "apt-get install $missing_tools"
fi

APACHE_WAS_RUNNING=no
pgrep -x apache2 >/dev/null && APACHE_WAS_RUNNING=yes
PG_WAS_RUNNING=no
pg_lsclusters -h 2>/dev/null | awk '$2 == "main" && $4 == "online"' | grep -q . && PG_WAS_RUNNING=yes

cleanup() {
    local status=$?
    if [ $status -ne 0 ]; then
        echo "--- logs of the failed run"
        tail -n 25 /var/log/lava-server/*.log /var/log/lava-dispatcher/*.log /var/log/apache2/lava-server.log \
            2>/dev/null || true
    fi
    if [ "$KEEP" = no ]; then
        purge_packages || status=1
        if [ "$APACHE_WAS_RUNNING" = no ] && pgrep -x apache2 >/dev/null; then
            service apache2 stop >/dev/null 2>&1 || true
        fi
        if [ "$PG_WAS_RUNNING" = no ]; then
            service postgresql stop >/dev/null 2>&1 || true
        fi
    fi
    [ -n "${LINTIAN_PID:-}" ] && kill "$LINTIAN_PID" 2>/dev/null
    rm -rf "$WORK" "$IMAGES"
    say "$([ $status -eq 0 ] && echo PASS || echo FAIL) (total $(($(date +%s) - START))s)"
    exit $status
}
trap cleanup EXIT

purge_packages() {
    local present=""
    for package in $PACKAGES; do
        dpkg-query -W "$package" >/dev/null 2>&1 && present="$present $package"
    done
    [ -n "$present" ] || return 0
    say "apt-get purge$present"
    $APT_GET purge -y -q $present >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; return 1; }
    local left
    left=$(lava_processes)
    if [ -n "$left" ]; then
        echo "FAIL: daemons still running after purge:" >&2
        ps -o pid,user,args -p $left >&2
        return 1
    fi
    # (only what the packages made: other processes on a shared host may create the default state dir)
    for path in /etc/init.d/lava-server /etc/lava-server/settings.yaml /var/lib/lava-server/default/static /usr/lib/lava \
            /run/lava-master; do
        [ ! -e "$path" ] || { echo "FAIL: $path left after purge" >&2; return 1; }
    done
    if pgrep -x postgres >/dev/null && runuser -u postgres -- psql -X -qAt -c \
            "SELECT 1 FROM pg_database WHERE datname = 'lavaserver'" 2>/dev/null | grep -q 1; then
        echo "FAIL: database lavaserver left after purge" >&2
        return 1
    fi
    say "purged: no daemon left, settings, state and database removed"
}

# 0. a previous run that died half way may have left the packages
purge_packages || fail "could not purge an earlier installation"
if ss -ltn 'sport = :80' | grep -q LISTEN && ! pgrep -x apache2 >/dev/null; then
    fail "port 80 is taken by something other than apache2"
fi

# 1. build from a clean export of HEAD
if [ -z "$DEBS" ]; then
    say "building the packages (share/debian-dev-build.sh)"
    DEBS="$WORK/debs"
    "$REPO/share/debian-dev-build.sh" -s "$REPO" -o "$DEBS" lava >"$WORK/build.out" 2>&1 \
        || { cat "$WORK/build.out"; fail "package build"; }
fi
ls "$DEBS"/lava_*.deb >/dev/null 2>&1 || fail "no lava_*.deb in $DEBS"
say "packages: $(cd "$DEBS" && echo *.deb)"

# lintian runs while the lab is tested: it takes minutes and one core
if command -v lintian >/dev/null; then
    (cd "$DEBS" && lintian --tag-display-limit 0 ./*.deb >"$WORK/lintian.txt" 2>&1) &
    LINTIAN_PID=$!
else
    say "lintian not installed: skipped (apt-get install lintian)"
fi

# 2. PostgreSQL first, so that the package's postinst can make its database
say "starting PostgreSQL"
installed postgresql || $APT_GET install -y -q postgresql >/dev/null || fail "apt-get install postgresql"
service postgresql start >/dev/null || fail "service postgresql start"

# a database left by a run that died before its purge would make this one differ
if runuser -u postgres -- psql -X -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'lavaserver'" 2>/dev/null \
        | grep -q 1; then
    say "dropping the lavaserver database an earlier run left"
    (cd / && runuser -u postgres -- dropdb --force lavaserver && runuser -u postgres -- dropuser --if-exists lavaserver) \
        || fail "could not drop the earlier lavaserver database"
fi

# as a lava-run started by root before the packages leaves it: /var/lib/lava 0750 root, which the
# worker cannot pass through unless the postinst opens it
install -d -m 0750 /var/lib/lava /var/lib/lava/dispatcher /var/lib/lava/dispatcher/tmp

say "apt-get install ./lava*.deb"
(cd "$DEBS" && $APT_GET install -y -q ./lava*.deb) >"$WORK/install.log" 2>&1 \
    || { cat "$WORK/install.log"; fail "apt-get install"; }
grep '^lava-server:' "$WORK/install.log"
grep -q 'database migrated' "$WORK/install.log" || { cat "$WORK/install.log"; fail "postinst did not set up the database"; }

# 3. the daemons, through init scripts
say "service apache2/lava-server/lava-worker start"
service apache2 restart >/dev/null || fail "service apache2 restart"
service lava-server start || fail "service lava-server start"
# as an admin would: the worker lets jobs read file:// URLs below the images folder only
sed -i "s|^WORKER_ARGS=\"\\(.*\\)\"|WORKER_ARGS=\"\\1 --allow-file-dir $IMAGES\"|" /etc/lava-dispatcher/lava-worker
grep -q -- "--allow-file-dir $IMAGES" /etc/lava-dispatcher/lava-worker || fail "could not add --allow-file-dir to WORKER_ARGS"
service lava-worker start || fail "service lava-worker start"
service lava-server status >/dev/null || fail "service lava-server status"

# 4. web UI, static files and APIs through apache on port 80
wait_until 30 "web UI through apache on port 80" web_ok /
curl -s http://127.0.0.1/ | grep -q '<html' || fail "the home page is not HTML"
static=$(cd /var/lib/lava-server/default/static && find . -name '*.css' | head -n 1)
[ -n "$static" ] || fail "no static files collected"
[ "$(web_status "/static/${static#./}")" = 200 ] || fail "apache does not serve /static/${static#./}"
[ "$(web_status /api/v0.2/)" = 200 ] || fail "REST API /api/v0.2/ through apache"
say "web UI, static files and REST answer through apache"

LAVACLI="$REPO/.venv/bin/lavacli"
[ -x "$LAVACLI" ] || LAVACLI=$(command -v lavacli || true)
[ -n "$LAVACLI" ] || fail "lavacli not found (.venv/bin/lavacli or PATH)"
lava-server manage users add admin --superuser --staff --passwd "$(openssl rand -hex 12)" >/dev/null \
    || fail "lava-server manage users add"
TOKEN=$(lava-server manage tokens add --user admin | tail -n 1)
URI="http://admin:$TOKEN@127.0.0.1/RPC2"
version=$("$LAVACLI" --uri "$URI" system version) || fail "lavacli system version through apache"
say "lavacli through apache: server version $version"

# 5. who runs as whom, and who may reach the master
runs_as() { stat -c %U "/proc/$(cat "/run/lava/$1.pid")" 2>/dev/null; }
[ "$(runs_as lava-worker)" = lavaworker ] || fail "lava-worker runs as '$(runs_as lava-worker)', not lavaworker"
[ "$(runs_as lava-master)" = lavaserver ] || fail "lava-master runs as '$(runs_as lava-master)', not lavaserver"
[ "$(stat -c '%U:%G %a' /run/lava-master)" = "lavaserver:lavaworker 750" ] \
    || fail "/run/lava-master is $(stat -c '%U:%G %a' /run/lava-master), not lavaserver:lavaworker 750"
wait_until 30 "the master's socket" test -S /run/lava-master/master.sock
if runuser -u nobody -- /usr/bin/python3 -c \
        'import socket; socket.socket(socket.AF_UNIX).connect("/run/lava-master/master.sock")' 2>/dev/null; then
    fail "user nobody could connect to the master's plain-text socket"
fi
if refusal=$(cd / && runuser -u lavaserver -- lava-server manage lava-master --plaintext \
        --bind tcp://127.0.0.1:5599 --events tcp://127.0.0.1:5598 2>&1); then
    fail "lava-master accepted --plaintext over tcp://"
fi
echo "$refusal" | grep -q 'QEMU guest' || fail "lava-master's refusal of plain text over TCP: $refusal"
say "lava-worker runs as lavaworker, lava-master as lavaserver; only they reach its socket; no plain text over TCP"

# 6. a QEMU board and a job on the local worker
/usr/share/lava-server/add_device.py qemu qemu01 || fail "add_device.py qemu qemu01"
lava-server manage devices update qemu01 --health good >/dev/null || fail "devices update qemu01"
wait_until 30 "worker $(hostname) online" sh -c "lava-server manage workers list | grep -q ' Online '"
PYTHON="$REPO/.venv/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3
(cd "$REPO" && "$PYTHON" - "$IMAGES" >"$WORK/job.yaml") <<'EOF' || fail "writing the QEMU job (test images: share/test-images/build.sh)"
import dataclasses
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, "tests")
from dispatcher.qemu_jobs import inline, qemu_job  # noqa: E402
from testimages import images  # noqa: E402

# copies the worker's user may read: root's home is closed to it
x86_64 = images().x86_64
readable = Path(sys.argv[1])
kernel = Path(shutil.copy(x86_64.kernel, readable))
ramdisk = Path(shutil.copy(x86_64.initramfs_login, readable))
job = qemu_job(dataclasses.replace(x86_64, kernel=kernel, initramfs_login=ramdisk),
               [inline("packaged", ["lava-test-case installed --shell true"])])
job["job_name"] = "Debian packages: QEMU x86_64"
print(yaml.safe_dump(job))
EOF
chmod 0644 "$IMAGES"/*
JOB=$("$LAVACLI" --uri "$URI" jobs submit "$WORK/job.yaml") || fail "lavacli jobs submit"
say "job $JOB submitted"
# while it runs: the job's QEMU must be lavaworker's, never root's. Ours are those descending from the
# packaged lava-worker: other QEMUs may run on a shared host
job_qemu_users() {
    local worker pid parent
    worker=$(cat /run/lava/lava-worker.pid 2>/dev/null) || return 0
    for pid in $(pgrep qemu-system); do
        parent=$pid
        while [ -n "$parent" ] && [ "$parent" -gt 1 ]; do
            parent=$(ps -o ppid= -p "$parent" | tr -d ' ')
            if [ "$parent" = "$worker" ]; then
                stat -c %U "/proc/$pid" 2>/dev/null
                break
            fi
        done
    done
}
job_finished() {
    for user in $(job_qemu_users); do
        touch "$WORK/qemu-as-$user"
    done
    "$LAVACLI" --uri "$URI" jobs show "$JOB" | grep -q 'state *: Finished'
}
wait_until $JOB_TIMEOUT "job $JOB finished" job_finished
health=$("$LAVACLI" --uri "$URI" jobs show "$JOB" | sed -n 's/^[Hh]ealth *: //p')
[ "$health" = Complete ] || { "$LAVACLI" --uri "$URI" jobs logs "$JOB" | tail -n 30; fail "job $JOB: $health"; }
[ -e "$WORK/qemu-as-lavaworker" ] || fail "the job's QEMU was never seen running as lavaworker"
others=$(cd "$WORK" && ls qemu-as-* | grep -v '^qemu-as-lavaworker$')
[ -z "$others" ] || fail "the job's QEMU ran as another user: $others"
say "job $JOB Complete on qemu01, its QEMU run by lavaworker"

# 7. an upgrade (here: the same version again) migrates and keeps config and data
settings_sum=$(md5sum /etc/lava-server/settings.yaml)
(cd "$DEBS" && $APT_GET install -y -q --reinstall ./lava-server_*.deb ./lava-dispatcher_*.deb ./lava-common_*.deb) \
    >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log"; fail "apt-get install --reinstall"; }
grep -q 'database migrated' "$WORK/upgrade.log" || fail "the upgrade did not run the migrations"
[ "$(md5sum /etc/lava-server/settings.yaml)" = "$settings_sum" ] || fail "the upgrade rewrote settings.yaml"
lava-server manage devices list | grep -q qemu01 || fail "device qemu01 lost in the upgrade"
"$LAVACLI" --uri "$URI" jobs show "$JOB" | grep -q 'Complete' || fail "job $JOB lost in the upgrade"
say "reinstall over the running lab: migrated, settings and data kept"

# 8. restarts
before=$(cat /run/lava/lava-scheduler.pid /run/lava/lava-master.pid)
service lava-server restart >/dev/null || fail "service lava-server restart"
after=$(cat /run/lava/lava-scheduler.pid /run/lava/lava-master.pid)
[ "$before" != "$after" ] || fail "service lava-server restart did not restart the daemons"
sleep 2
service lava-server status >/dev/null || fail "daemons not running after service lava-server restart"
wait_until 30 "web UI after service lava-server restart" web_ok /
apache2ctl restart || fail "apache2ctl restart"
wait_until 30 "web UI after apache2ctl restart" web_ok /
"$LAVACLI" --uri "$URI" system version >/dev/null || fail "lavacli after the restarts"
say "service lava-server restart and apache2ctl restart: lab answers"

# 9. lintian
if [ -n "${LINTIAN_PID:-}" ]; then
    say "waiting for lintian"
    wait "$LINTIAN_PID"
    LINTIAN_PID=
    grep -E '^[EW]: ' "$WORK/lintian.txt" | sed 's/ \[.*//' | sort | uniq -c | sort -rn
    if grep -q '^E: ' "$WORK/lintian.txt"; then
        grep '^E: ' "$WORK/lintian.txt"
        fail "lintian errors"
    fi
    say "lintian: no errors"
fi

if [ "$KEEP" = yes ]; then
    say "--keep: the lab stays installed (admin token $TOKEN)"
fi
exit 0
