#!/usr/bin/env bash
# The real-migration matrix between real QEMU 5.2, 7.2 and 10.0 beside `vmstate predict` (see
# streams/real-matrix.ts), e.g.  streams/real-matrix.sh --out /tmp/matrix --shard 1/4
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../node_modules/.bin/ts-node" --transpile-only "$here/real-matrix.ts" "$@"
