#!/bin/sh
# board-power.sh STATE_DIR on|off OUTLET: the "outlet" of a virtual board (pdudaemon's localcmdline driver).
# "on" runs STATE_DIR/outlets/OUTLET.on (written by virtual_lab.py: a QEMU board that daemonizes and
# leaves OUTLET.pid); "off" kills that QEMU and waits until it is gone, so a quick "on" after it finds
# the serial line free. pdudaemon ignores the exit status; the board's log says what went wrong.
set -u
STATE=$1; ACTION=$2; OUTLET=$3
DIR=$STATE/outlets
PIDF=$DIR/$OUTLET.pid
LOG=$DIR/$OUTLET.log
# alive and not a zombie: a daemonized QEMU is reaped by PID 1 only some time after it exits
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }
running() { [ -f "$PIDF" ] && alive "$(cat "$PIDF" 2>/dev/null)"; }
case $ACTION in
  on)
    [ -f "$DIR/$OUTLET.on" ] || { echo "board-power.sh: no board on outlet $OUTLET ($DIR/$OUTLET.on)" >&2; exit 1; }
    running && exit 0
    echo "$(date -u +%FT%TZ) on" >>"$LOG"
    exec sh "$DIR/$OUTLET.on" >>"$LOG" 2>&1 ;;
  off)
    running || { rm -f "$PIDF"; exit 0; }
    PID=$(cat "$PIDF")
    echo "$(date -u +%FT%TZ) off" >>"$LOG"
    kill "$PID" 2>/dev/null
    i=0
    while alive "$PID" && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
    kill -9 "$PID" 2>/dev/null
    rm -f "$PIDF" ;;
  *) echo "usage: board-power.sh STATE_DIR on|off OUTLET" >&2; exit 2 ;;
esac
