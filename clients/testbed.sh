#!/usr/bin/env bash
# A live node and platform for the client libraries' scenario tests (clients/*/): SQLite, two
# processes on free loopback ports, the platform admitted, the demo data imported.
#
#   clients/testbed.sh up DIR     start them under DIR; print DIR/testbed.json (and write it)
#   clients/testbed.sh down DIR   stop them
#
# testbed.json:
#   {"node":     {"url", "did", "keyFile"},          the node; keyFile is its key (the operator's)
#    "platform": {"url", "did", "keyFile", "uscc"},  the admitted platform process
#    "consentry": path of the binary used}
# The binary is $CONSENTRY_BIN, else target/debug/consentry of this checkout (built if missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
    echo "usage: $0 up|down DIR" >&2
    exit 2
fi
bin="${CONSENTRY_BIN:-$root/target/debug/consentry}"
PLATFORM_USCC=91330000MA28PLAT2L

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() { # url pid log
    for _ in $(seq 1 300); do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "testbed: the service exited early; its log:" >&2
            cat "$3" >&2
            exit 1
        fi
        if curl -fsS "$1/healthz" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "testbed: $1 did not come up; its log:" >&2
    cat "$3" >&2
    exit 1
}

did_of() { # key file
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["did"])' "$1"
}

case "$cmd" in
up)
    if [[ ! -x "$bin" ]]; then
        (cd "$root" && cargo build --quiet --bin consentry)
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    np="$(free_port)"
    pp="$(free_port)"
    node_url="http://127.0.0.1:$np"
    platform_url="http://127.0.0.1:$pp"
    "$bin" serve --data-dir "$dir/node" --listen "127.0.0.1:$np" >"$dir/node.log" 2>&1 &
    echo $! >"$dir/node.pid"
    wait_ready "$node_url" "$(cat "$dir/node.pid")" "$dir/node.log"
    "$bin" admin --data-dir "$dir/node" import "$root/demo/records.jsonl" >"$dir/import.log"
    "$bin" serve --role platform --node "$node_url" --platform-uscc "$PLATFORM_USCC" \
        --data-dir "$dir/platform" --listen "127.0.0.1:$pp" >"$dir/platform.log" 2>&1 &
    echo $! >"$dir/platform.pid"
    wait_ready "$platform_url" "$(cat "$dir/platform.pid")" "$dir/platform.log"
    "$bin" admin --data-dir "$dir/node" platform add --uscc "$PLATFORM_USCC" --name 示例融资信用服务平台 \
        --did "$(did_of "$dir/platform/platform.key.json")" --endpoint "$platform_url" >"$dir/admit.log"
    python3 - "$dir" "$node_url" "$platform_url" "$PLATFORM_USCC" "$bin" <<'PY'
import json, sys
d, node_url, platform_url, uscc, binary = sys.argv[1:]
key = lambda p: json.load(open(p))["did"]
out = {
    "node": {"url": node_url, "did": key(f"{d}/node/node.key.json"), "keyFile": f"{d}/node/node.key.json"},
    "platform": {"url": platform_url, "did": key(f"{d}/platform/platform.key.json"),
                 "keyFile": f"{d}/platform/platform.key.json", "uscc": uscc},
    "consentry": binary,
}
open(f"{d}/testbed.json", "w").write(json.dumps(out, indent=2, ensure_ascii=False))
print(json.dumps(out, ensure_ascii=False))
PY
    ;;
down)
    for p in platform node; do
        if [[ -f "$dir/$p.pid" ]]; then
            kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
            rm -f "$dir/$p.pid"
        fi
    done
    ;;
*)
    echo "usage: $0 up|down DIR" >&2
    exit 2
    ;;
esac
