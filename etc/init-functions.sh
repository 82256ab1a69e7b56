# Shared by the LAVA init scripts (installed as /usr/lib/lava/init-functions.sh).
# The caller sources /lib/lsb/init-functions, sets NAME, DESC, DAEMON_USER and
# LOGFILE (and optionally RUNTIME_DIR and RUNTIME_GROUP), then calls
# lava_main ACTION PROGRAM -- ARGS...
# Daemons run in the background under start-stop-daemon, which keeps their
# pid in /run/lava/NAME.pid and sends their output to LOGFILE.

PIDDIR=/run/lava
PIDFILE="$PIDDIR/$NAME.pid"

lava_running() {
    start-stop-daemon --status --pidfile "$PIDFILE" >/dev/null 2>&1
}

lava_start() {
    mkdir -p "$PIDDIR" "$(dirname "$LOGFILE")"
    if lava_running; then
        log_success_msg "$DESC is already running"
        return 0
    fi
    log_daemon_msg "Starting $DESC" "$NAME"
    touch "$LOGFILE"
    chown "$DAEMON_USER" "$LOGFILE"
    if [ -n "${RUNTIME_DIR:-}" ]; then
        # the daemon's folder in /run: its user's, its group's if that group exists, nobody else's
        install -d -m 0750 -o "$DAEMON_USER" -g "$DAEMON_USER" "$RUNTIME_DIR"
        if [ -n "${RUNTIME_GROUP:-}" ] && getent group "$RUNTIME_GROUP" >/dev/null; then
            chgrp "$RUNTIME_GROUP" "$RUNTIME_DIR"
        fi
    fi
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \
        --chuid "$DAEMON_USER" --chdir / --output "$LOGFILE" --startas "$@"
    status=$?
    log_end_msg $status
    return $status
}

lava_stop() {
    log_daemon_msg "Stopping $DESC" "$NAME"
    # TERM first (the daemons finish their current step), KILL only if they hang
    start-stop-daemon --stop --quiet --pidfile "$PIDFILE" --remove-pidfile --retry TERM/20/KILL/5
    status=$?
    # 1: was not running, which is what stop wants
    [ $status -eq 1 ] && status=0
    log_end_msg $status
    return $status
}

lava_reload() {
    log_daemon_msg "Reloading $DESC" "$NAME"
    start-stop-daemon --stop --quiet --signal HUP --pidfile "$PIDFILE"
    log_end_msg $?
}

# LSB exit codes, as start-stop-daemon --status gives them: 0 running,
# 1 dead with a pid file left, 3 not running
lava_status() {
    start-stop-daemon --status --pidfile "$PIDFILE"
    status=$?
    case $status in
        0) log_success_msg "$NAME is running" ;;
        1) log_failure_msg "$NAME is not running (stale $PIDFILE)" ;;
        *) log_failure_msg "$NAME is not running" ;;
    esac
    return $status
}

# usage: lava_main ACTION PROGRAM -- ARGS...
lava_main() {
    action=$1
    shift
    case "$action" in
        start) lava_start "$@" ;;
        stop) lava_stop ;;
        restart|force-reload)
            lava_stop
            lava_start "$@"
            ;;
        reload)
            if [ "${RELOAD_WITH_HUP:-no}" = yes ]; then lava_reload; else lava_stop && lava_start "$@"; fi
            ;;
        status) lava_status ;;
        *)
            echo "Usage: /etc/init.d/$NAME {start|stop|restart|reload|force-reload|status}" >&2
            return 3
            ;;
    esac
}
