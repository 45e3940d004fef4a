#!/usr/bin/env bash
# The benchmark: per-request offline grant verification + status check, both envelopes (µs/op).
set -euo pipefail
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mvn -q -o -B -Dmaven.repo.local=/usr/share/maven-repo test-compile
# Bouncy Castle's Ed25519 (Debian libbcprov-java) when installed; the JDK's otherwise.
exec java -Dconsentry.repo="$PWD/../.." -cp "target/classes:target/test-classes:/usr/share/java/bcprov.jar" cn.consentry.client.Benchmark "$@"
