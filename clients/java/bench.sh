#!/usr/bin/env bash
# The benchmark: per-request offline grant verification + status check, both envelopes (µs/op).
set -euo pipefail
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mvn -q -o -B -Dmaven.repo.local=/usr/share/maven-repo test-compile
exec java -Dconsentry.repo="$PWD/../.." -cp target/classes:target/test-classes cn.consentry.client.Benchmark "$@"
