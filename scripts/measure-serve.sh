#!/usr/bin/env bash
# Measures `anneal serve` on the embedded stack: seconds until /actuator/health is UP, resident
# memory once up, and seconds to stop on SIGTERM. Uses a fresh data dir and, with --restart, a
# second start on the same data (warm PostgreSQL data directory).
#   scripts/measure-serve.sh [--restart]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/platform-api/target/anneal.jar"
[[ -f "$JAR" ]] || { echo "build first: ./mvnw -B -DskipTests install" >&2; exit 1; }
PORT="${PORT:-18080}"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT

run_once() {
  local label="$1"
  local t0 t1 pid rss
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
    echo "something already answers on port $PORT; stop it or set PORT=" >&2
    exit 1
  fi
  t0=$(date +%s.%N)
  java -jar "$JAR" serve --port "$PORT" --data-dir "$DATA/anneal" \
      --pg-port 0 --temporal-port 0 --s3-port 0 >"$DATA/serve.log" 2>&1 &
  pid=$!
  until [[ "$(curl -sf "http://127.0.0.1:$PORT/actuator/health" || true)" == '{"status":"UP"'* ]]; do
    kill -0 "$pid" 2>/dev/null || { echo "serve died:"; tail -20 "$DATA/serve.log"; exit 1; }
    sleep 0.2
  done
  t1=$(date +%s.%N)
  rss=$(ps -o rss= -p "$pid")
  kill -TERM "$pid"   # what Ctrl-C or a pod stop does; a script's background job ignores SIGINT
  local t2 t3
  t2=$(date +%s.%N)
  wait "$pid" || true
  t3=$(date +%s.%N)
  printf '%-7s start to health UP: %5.1f s   resident memory: %4d MiB   stop: %4.1f s\n' \
    "$label" "$(awk "BEGIN{print $t1 - $t0}")" $((rss / 1024)) "$(awk "BEGIN{print $t3 - $t2}")"
}

run_once "fresh"
if [[ "${1:-}" == "--restart" ]]; then
  run_once "restart"
fi
