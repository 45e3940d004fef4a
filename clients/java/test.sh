#!/usr/bin/env bash
# The Java client's single test entry point: installs the Debian packages it builds with (when run
# as root and they are missing), builds offline against Debian's Maven repository, runs the unit
# and conformance tests, and — when CONSENTRY_BIN is set — the live scenario against a testbed it
# starts and stops itself. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# Debian 12 packages: the JDK, Maven, its plugins, JUnit 5 and Bouncy Castle (the optional fast
# Ed25519) (all into /usr/share/maven-repo).
APT_PACKAGES=(openjdk-17-jdk-headless maven libmaven-compiler-plugin-java libsurefire-java junit5
              libmaven-jar-plugin-java libmaven-resources-plugin-java libmaven-install-plugin-java
              libbcprov-java)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "test.sh: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
fi

MVN=(mvn -q -o -B -Dmaven.repo.local=/usr/share/maven-repo)
if [[ -n "${CONSENTRY_BIN:-}" ]]; then
    tb="$(mktemp -d)"
    trap '"$here/../testbed.sh" down "$tb" >/dev/null 2>&1 || true; rm -rf "$tb"' EXIT
    "$here/../testbed.sh" up "$tb" >/dev/null
    export CONSENTRY_TESTBED="$tb/testbed.json"
fi
nice "${MVN[@]}" test
echo "clients/java: all tests passed${CONSENTRY_BIN:+ (with the live scenario)}"
