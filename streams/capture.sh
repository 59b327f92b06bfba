#!/usr/bin/env bash
# Capture fresh QEMU migration streams (see streams/README.md). A thin wrapper over capture.ts;
# all arguments are passed through, e.g.  streams/capture.sh --check --out /tmp/streams
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../node_modules/.bin/ts-node" --transpile-only "$here/capture.ts" "$@"
