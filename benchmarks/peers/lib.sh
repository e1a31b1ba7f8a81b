# Helpers of benchmarks/peers/run.sh: processes started and stopped by PID, CPU and memory read from /proc, tool checks.
# Sourced, not run.

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$PEERS_DIR/../.." && pwd)
STATE=${PEERS_STATE:-${TMPDIR:-/tmp}/mesh-peers.$$}
TICKS=$(getconf CLK_TCK)
STARTED=()

log() { echo "# $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# has TOOL PACKAGE: whether TOOL is installed; if not, says which Debian package provides it.
has() {
  command -v "$1" >/dev/null 2>&1 && return 0
  log "skipped: $1 is not installed (Debian: apt-get install $2)"
  return 1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 100); do port_busy "$1" && return 0; sleep 0.1; done
  return 1
}

# start NAME PORT COMMAND...: starts COMMAND in the background, records its PID in PID and STARTED, waits for PORT to listen.
start() {
  local name=$1 port=$2
  shift 2
  port_busy "$port" && die "port $port is already in use (set PEERS_PORT to another base)"
  "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  PID=$!
  STARTED+=("$PID")
  wait_port "$port" || die "$name did not listen on 127.0.0.1:$port (see $STATE/$name.log)"
}

descendants() {
  local pid=$1 child
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do descendants "$child"; done
}

# stop PID: stops the process and its children (nginx workers, socat's per-connection forks) by PID.
stop() {
  local pids
  pids=$(descendants "$1")
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pids 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

stop_all() {
  local pid
  for pid in "${STARTED[@]}"; do kill -0 "$pid" 2>/dev/null && stop "$pid"; done
  STARTED=()
}

# cpu_seconds PID: user + system CPU of the process, its threads and its children (live ones and reaped ones).
cpu_seconds() {
  local total=0 pid
  for pid in $(descendants "$1"); do
    # Fields after the ")" of the command name: utime, stime, cutime, cstime are the 12th to 15th.
    total=$((total + $(sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')))
  done
  awk -v t="$total" -v hz="$TICKS" 'BEGIN { printf "%.3f", t / hz }'
}

# rss_kib PID: resident memory of the process and its children, in KiB.
rss_kib() {
  local total=0 pid
  for pid in $(descendants "$1"); do
    total=$((total + $(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status 2>/dev/null || echo 0)))
  done
  echo "$total"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# record CASE ROUND SIDE METRIC VALUE: one measurement, for load.py table.
record() { echo "$AREA $*" >>"$STATE/results"; }

calc() { awk "BEGIN { printf \"%.4g\", $* }"; }

# The Mesh programs are built once and started with dotnet directly, so the PID measured is the program's own.
mesh_build() {
  local project=$1 name
  name=$(basename "$project")
  if [[ ! -f $REPO/$project/bin/Release/net10.0/$name.dll || -n ${PEERS_REBUILD:-} ]]; then
    log "building $project"
    dotnet build "$REPO/$project" -c Release -v quiet -nologo >"$STATE/build-$name.log" 2>&1 || die "build of $project failed (see $STATE/build-$name.log)"
  fi
  echo "$REPO/$project/bin/Release/net10.0/$name.dll"
}
