#!/usr/bin/env bash
# Measures what an operator feels: the time from exec to /readyz answering 200 on the
# embedded defaults (fresh SQLite file, migrations included), the resident memory after
# sitting idle, and the time a SIGTERM takes to shut down cleanly.
#
#   bash scripts/startup-and-idle.sh [idle seconds, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
idle="${1:-10}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/chatpay" ./cmd/chatpay
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CHATPAY_HTTP_ADDR="127.0.0.1:$port" CHATPAY_PUBLIC_URL="http://127.0.0.1:$port"
export CHATPAY_DATABASE_URL="sqlite:$work/chatpay.db"

ms() { date +%s%3N; }
start=$(ms)
"$work/chatpay" >"$work/out.log" 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log"; exit 1; }
  sleep 0.005
done
ready=$(( $(ms) - start ))
echo "start-up to ready (fresh SQLite, migrations included): ${ready} ms"

sleep "$idle"
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
echo "resident memory after ${idle}s idle: $(( rss_kb / 1024 )) MB (${rss_kb} kB)"

stop=$(ms)
kill -TERM "$pid"
wait "$pid" || true
echo "graceful shutdown: $(( $(ms) - stop )) ms"
