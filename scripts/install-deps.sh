#!/usr/bin/env bash
# Install the Debian packages lancedb_fdw needs.
#
#   scripts/install-deps.sh           what building and installing needs
#   scripts/install-deps.sh --test    plus what the test suites need
#
# Only packages that are missing are installed, so a second run is quick.
set -euo pipefail

build=(build-essential pkg-config postgresql-15 postgresql-server-dev-15
	libzstd-dev liblz4-dev libcurl4-openssl-dev libssl-dev libopenblas-dev
	libprotobuf-c-dev protobuf-c-compiler libroaring-dev)
# clang + its runtime for the libFuzzer targets; IPC::Run for the TAP tests;
# Ceph's radosgw (with a mon and an OSD) as the S3 server of test/storage.
testing=(clang libclang-rt-14-dev libipc-run-perl radosgw ceph-mon ceph-osd)

want=("${build[@]}")
[ "${1:-}" = "--test" ] && want+=("${testing[@]}")
# Node and npm drive the client and interop tests.  A machine with its own
# Node (e.g. from nodesource, which bundles npm) keeps it: Debian's npm
# package conflicts with that.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null; then
	want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
