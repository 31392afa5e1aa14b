#!/usr/bin/env bash
# Builds the Debian package the Debian way (dpkg-buildpackage -us -uc -b, see
# debian/) from a copy of the source tree, so that the tree itself stays clean
# and parallel runs do not meet:
#
#   scripts/package.sh [OUTDIR]      (default OUTDIR: build-package)
#
# The copy (tracked and untracked, not ignored, files) goes to OUTDIR/src;
# dpkg-buildpackage writes the .deb, .buildinfo and .changes to OUTDIR. The
# copy's path is stable, so ccache (when CMAKE_CXX_COMPILER_LAUNCHER=ccache is
# in the environment) hits on a rebuild. DEB_BUILD_OPTIONS is honoured
# (default: parallel=$(nproc)).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-package}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src" "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes
mkdir "$out/src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$out/src"
RCW_GIT_REVISION=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- 2>/dev/null; then RCW_GIT_REVISION+="-dirty"; fi
export RCW_GIT_REVISION
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
(cd "$out/src" && dpkg-buildpackage -us -uc -b)
ls "$out"/*.deb
