#!/bin/sh
# Build the LAVA Debian packages from a git checkout into a temporary directory.
#
#   debian-dev-build.sh [-s CHECKOUT] [-o OUTDIR] [-r REF] [PACKAGE]
#
# PACKAGE is the source package (lava) or one of its binary packages; all of
# them are built, the line naming PACKAGE's .deb comes last. The version is the
# latest git tag (or pyproject's version) plus the commit time and hash, so
# that each build sorts after the previous one. The tree built is REF (HEAD by
# default) exported with git archive: uncommitted changes are not built.
set -eu

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
    exit "${1:-0}"
}

CHECKOUT=.
OUTDIR=
REF=HEAD
while getopts "s:o:r:h" option; do
    case $option in
        s) CHECKOUT=$OPTARG ;;
        o) OUTDIR=$OPTARG ;;
        r) REF=$OPTARG ;;
        h) usage 0 ;;
        *) usage 2 >&2 ;;
    esac
done
shift $((OPTIND - 1))
PACKAGE=${1:-lava}
case $PACKAGE in
    lava|lava-server|lava-dispatcher|lava-common|lava-dev) ;;
    *) echo "debian-dev-build.sh: unknown package '$PACKAGE' (lava, lava-server, lava-dispatcher, lava-common, lava-dev)" >&2
       exit 2 ;;
esac

if ! TOP=$(git -C "$CHECKOUT" rev-parse --show-toplevel 2>/dev/null); then
    echo "debian-dev-build.sh: $CHECKOUT is not a git checkout (use -s CHECKOUT)" >&2
    exit 2
fi
if [ ! -f "$TOP/debian/control" ]; then
    echo "debian-dev-build.sh: $TOP has no debian/control" >&2
    exit 2
fi
if [ -n "$(git -C "$TOP" status --porcelain --untracked-files=no)" ] && [ "$REF" = HEAD ]; then
    echo "debian-dev-build.sh: note: uncommitted changes in $TOP are not part of the build" >&2
fi

BASE=$(git -C "$TOP" describe --tags --abbrev=0 "$REF" 2>/dev/null \
       || sed -n 's/^version = "\(.*\)"/\1/p' "$TOP/pyproject.toml")
STAMP=$(git -C "$TOP" log -1 --format=%cd --date=format-local:%Y%m%d.%H%M%S "$REF")
HASH=$(git -C "$TOP" rev-parse --short=10 "$REF")
VERSION="$BASE+git$STAMP.$HASH"

[ -n "$OUTDIR" ] || OUTDIR=$(mktemp -d /tmp/lava-debian-build.XXXXXX)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
TREE="$OUTDIR/lava-$VERSION"
rm -rf "$TREE"
mkdir -p "$TREE"
git -C "$TOP" archive --format=tar "$REF" | tar -x -C "$TREE"

# a changelog entry for this build, above the released ones
{
    echo "lava ($VERSION) unstable; urgency=medium"
    echo
    echo "  * Development build of $(git -C "$TOP" rev-parse "$REF")."
    echo
    echo " -- ${DEBFULLNAME:-LAVA developers} <${DEBEMAIL:-lava-devel@example.org}>  $(date -R)"
    echo
    cat "$TREE/debian/changelog"
} > "$TREE/debian/changelog.new"
mv "$TREE/debian/changelog.new" "$TREE/debian/changelog"

cd "$TREE"
if ! dpkg-checkbuilddeps; then
    echo "debian-dev-build.sh: install the build dependencies above (apt-get install ...), then run again" >&2
    exit 1
fi
echo "building lava $VERSION in $TREE (log: $OUTDIR/build.log)"
if ! dpkg-buildpackage -us -uc -b >"$OUTDIR/build.log" 2>&1; then
    tail -n 30 "$OUTDIR/build.log" >&2
    echo "debian-dev-build.sh: dpkg-buildpackage failed, full log: $OUTDIR/build.log" >&2
    exit 1
fi
rm -rf "$TREE"
echo "packages in $OUTDIR:"
ls "$OUTDIR"/*.deb | grep -v "/${PACKAGE}_" || true
ls "$OUTDIR/${PACKAGE}_"*.deb
