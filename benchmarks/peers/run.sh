#!/usr/bin/env bash
# Mesh beside the peers a user would deploy instead, in one run on 127.0.0.1, in alternating rounds (peer, Mesh, peer,
# Mesh...), each ratio paired within its round. See README.md in this directory.
#
#   benchmarks/peers/run.sh relay|gateway|handshake|idle-memory [--seconds S] [--rounds R] [--streams "1 4 16"]
#                           [--connections N] [--peers "haproxy nginx ..."]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$PEERS_DIR/peers.sh"

AREA=${1:-}
shift || true
SECONDS_EACH=10 ROUNDS=5 STREAMS="1 4 16" CONNECTIONS=2000 PEERS=""
while [[ $# -gt 0 ]]; do
  case $1 in
  --seconds) SECONDS_EACH=$2 ;;
  --rounds) ROUNDS=$2 ;;
  --streams) STREAMS=$2 ;;
  --connections) CONNECTIONS=$2 ;;
  --peers) PEERS=$2 ;;
  *) die "unknown option $1 (see the top of $0)" ;;
  esac
  shift 2 || die "$1 needs a value"
done
BASE=${PEERS_PORT:-17100}
SNI=web.default.dc2.internal.example.consul

mkdir -p "$STATE"
: >"$STATE/results"
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

# Starts every available peer of the list and Mesh's KIND, one port each after BASE+1; fills SIDES, PORT and PIDOF.
declare -A PORT PIDOF
SIDES=()
start_sides() {
  local mesh_kind=$1 target=$2 port=$((BASE + 1)) kind
  shift 2
  for kind in ${PEERS:-$@}; do
    peer_available "$kind" || continue
    peer_start "$kind" "$port" "$target"
    SIDES+=("$kind") PORT[$kind]=$port PIDOF[$kind]=$PID
    port=$((port + 1))
  done
  [[ ${#SIDES[@]} -gt 0 ]] || die "no peer of '${PEERS:-$*}' can run here"
  peer_available "$mesh_kind" || die "Mesh needs the .NET SDK"
  peer_start "$mesh_kind" "$port" "$target"
  PORT[mesh]=$port PIDOF[mesh]=$PID
}

# Relay throughput: bytes through each relay in SECONDS_EACH, and the relay's CPU per GiB.
throughput() { # PORT STREAMS SECONDS -> "bytes seconds"
  if command -v iperf3 >/dev/null; then
    iperf3 -c 127.0.0.1 -p "$1" -P "$2" -t "${3%.*}" -J |
      python3 -c 'import json, sys; s = json.load(sys.stdin)["end"]["sum_received"]; print(s["bytes"], s["seconds"])'
  else
    python3 "$PEERS_DIR/load.py" blast "$1" "$2" "$3"
  fi
}

measure_throughput() { # CASE ROUND SIDE
  local cpu0 cpu1 bytes secs
  cpu0=$(cpu_seconds "${PIDOF[$3]}")
  read -r bytes secs < <(throughput "${PORT[$3]}" "${1#streams-}" "$SECONDS_EACH")
  cpu1=$(cpu_seconds "${PIDOF[$3]}")
  record "$1" "$2" "$3" gbit_per_s "$(calc "$bytes * 8 / $secs / 1e9")"
  # Straight to the target there is no relay whose CPU to count.
  [[ $3 == direct ]] || record "$1" "$2" "$3" cpu_s_per_gib "$(calc "($cpu1 - $cpu0) / ($bytes / 1073741824)")"
}

relay_area() {
  local target=$BASE streams r side
  if has iperf3 iperf3; then
    start target "$target" iperf3 -s -B 127.0.0.1 -p "$target"
  else
    log "throughput from python sockets instead of iperf3: lower figures, same for both sides"
    start target "$target" python3 "$PEERS_DIR/load.py" sink "$target"
  fi
  local target_pid=$PID
  start_sides mesh "$target" haproxy haproxy-splice nginx socat
  # The yardstick: the same load straight to the target, so Mesh's share of loopback shows too.
  SIDES=(direct "${SIDES[@]}") PORT[direct]=$target PIDOF[direct]=$target_pid
  # One unrecorded second each first: Mesh compiles its hot paths on first use, the peers fill their caches.
  for side in "${SIDES[@]}" mesh; do throughput "${PORT[$side]}" 1 1 >/dev/null; done
  for streams in $STREAMS; do
    for r in $(seq "$ROUNDS"); do
      for side in "${SIDES[@]}"; do
        measure_throughput "streams-$streams" "$r.$side" "$side"
        measure_throughput "streams-$streams" "$r.$side" mesh
      done
    done
  done
}

# The backend of the SNI routers: openssl's TLS 1.3 server with an ECDSA P-256 certificate for the routed names.
certificates() {
  local d="$STATE/certs"
  [[ -f $d/server.pem ]] && return
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=peers-ca \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=web -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:*.dc2.internal.example.consul,DNS:localhost\n' >"$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/san.ext" \
    -out "$d/server.pem" 2>/dev/null
  cp "$d/ca.key" "$d/client.key" && cp "$d/ca.pem" "$d/client.pem"
}

# New TLS connections per second through each SNI router (full TLS 1.3 handshakes, one client), and the router's CPU per
# connection.
gateway_area() {
  local target=$BASE r side s cpu0 cpu1 count secs
  has openssl openssl || die "the TLS backend is openssl s_server"
  certificates
  start backend "$target" openssl s_server -accept "127.0.0.1:$target" -cert "$STATE/certs/server.pem" \
    -key "$STATE/certs/server.key" -tls1_3 -www -quiet
  start_sides mesh-gateway "$target" haproxy-sni nginx-sni
  # One unrecorded second each first: Mesh compiles its hot paths on first use, the peers fill their caches.
  for side in "${SIDES[@]}" mesh; do python3 "$PEERS_DIR/load.py" tls "${PORT[$side]}" "$SNI" 1 >/dev/null; done
  for r in $(seq "$ROUNDS"); do
    for side in "${SIDES[@]}"; do
      for s in "$side" mesh; do
        cpu0=$(cpu_seconds "${PIDOF[$s]}")
        read -r count secs < <(python3 "$PEERS_DIR/load.py" tls "${PORT[$s]}" "$SNI" "$SECONDS_EACH")
        cpu1=$(cpu_seconds "${PIDOF[$s]}")
        record tls-connect "$r.$side" "$s" conn_per_s "$(calc "$count / $secs")"
        record tls-connect "$r.$side" "$s" cpu_us_per_conn "$(calc "($cpu1 - $cpu0) * 1e6 / $count")"
      done
    done
  done
}

# Memory per idle relayed connection: a freshly started relay, CONNECTIONS connections opened through it to a server that
# reads nothing, resident memory read before and three seconds after (Mesh.Relay collects garbage once accepts stop).
measure_idle() { # ROUND SIDE KIND
  local pid client base after
  peer_start "$3" "$((BASE + 1))" "$BASE"
  pid=$PID
  sleep 1
  base=$(rss_kib "$pid")
  python3 "$PEERS_DIR/load.py" idle "$((BASE + 1))" "$CONNECTIONS" >"$STATE/idle.out" 2>&1 &
  client=$!
  for _ in $(seq 300); do grep -q '^open' "$STATE/idle.out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  grep -q '^open' "$STATE/idle.out" || die "the idle client failed: $(cat "$STATE/idle.out")"
  sleep 3
  after=$(rss_kib "$pid")
  record idle "$1" "$2" kib_per_conn "$(calc "($after - $base) / $CONNECTIONS")"
  record idle "$1" "$2" base_mib "$(calc "$base / 1024")"
  kill "$client" 2>/dev/null
  wait "$client" 2>/dev/null
  stop "$pid"
}

idle_memory_area() {
  local r side
  [[ $CONNECTIONS -le 5000 ]] || die "--connections at most 5000: a relay holds two descriptors per connection, and a process may open 20,000"
  start hold "$BASE" python3 "$PEERS_DIR/load.py" hold "$BASE"
  # socat forks a process per connection: not measured here.
  for side in ${PEERS:-haproxy nginx}; do
    peer_available "$side" || continue
    for r in $(seq "$ROUNDS"); do
      measure_idle "$r.$side" "$side" "$side"
      measure_idle "$r.$side" mesh mesh
    done
  done
}

# Mutual-TLS handshakes per second and server CPU per handshake: a Mesh service (Mesh.HandshakeServer: handshake, SVID
# validation, intentions) against `openssl s_server -Verify 1` with the same certificates, both driven by `openssl s_time`.
# The client presents its leaf only, as Consul's and Envoy's proxies do (the root travels in the bundle, never in a handshake);
# PEERS_CLIENT_SENDS_ROOT=1 lets s_time chain to the root and send it too, as OpenSSL's clients do when given a CA file.
# PEERS_MESH_BASELINE=/path/to/an/older/Mesh.HandshakeServer.dll measures that build in the same rounds, as the peer
# "mesh-baseline", so a change shows as a ratio paired within each round.
handshake_area() {
  local r side s out count bytes cpu0 cpu1 seconds=${SECONDS_EACH%.*} certs="$STATE/mesh-certs" client_ca port=$((BASE + 3))
  local sides=(openssl-s_server)
  has openssl openssl || die "the peer and the client are openssl's"
  peer_available mesh || die "Mesh needs the .NET SDK"
  start mesh "$((BASE + 1))" dotnet "$(mesh_build benchmarks/peers/Mesh.HandshakeServer)" --listen "127.0.0.1:$((BASE + 1))" --certs "$certs"
  PORT[mesh]=$((BASE + 1)) PIDOF[mesh]=$PID
  start s_server "$((BASE + 2))" openssl s_server -accept "127.0.0.1:$((BASE + 2))" -cert "$certs/server.pem" -key "$certs/server.key" \
    -CAfile "$certs/root.pem" -Verify 1 -verify_return_error -tls1_3 -quiet -www
  PORT[openssl-s_server]=$((BASE + 2)) PIDOF[openssl-s_server]=$PID
  if [[ -n ${PEERS_MESH_BASELINE:-} ]]; then
    [[ -f $PEERS_MESH_BASELINE ]] || die "PEERS_MESH_BASELINE=$PEERS_MESH_BASELINE is not a file"
    start mesh-baseline "$port" dotnet "$PEERS_MESH_BASELINE" --listen "127.0.0.1:$port" --certs "$STATE/mesh-baseline-certs"
    PORT[mesh-baseline]=$port PIDOF[mesh-baseline]=$PID
    sides+=(mesh-baseline)
  fi
  if [[ -n ${PEERS_CLIENT_SENDS_ROOT:-} ]]; then client_ca=(-CAfile root.pem); else client_ca=(-no-CAfile -no-CApath -no-CAstore); fi
  # Five unrecorded seconds each first: Mesh compiles its hot paths on first use and recompiles them once they are hot.
  for r in warm-up $(seq "$ROUNDS"); do
    for side in "${sides[@]}"; do
      for s in "$side" mesh; do
        local dir=$certs
        [[ $s == mesh-baseline ]] && dir="$STATE/mesh-baseline-certs"
        cpu0=$(cpu_seconds "${PIDOF[$s]}")
        out=$(cd "$dir" && openssl s_time -connect "127.0.0.1:${PORT[$s]}" -www / -new -tls1_3 -time "$([[ $r == warm-up ]] && echo 5 || echo "$seconds")" \
          -cert client.pem -key client.key "${client_ca[@]}" 2>&1)
        cpu1=$(cpu_seconds "${PIDOF[$s]}")
        # "N connections in T real seconds, ..."
        count=$(sed -n 's/^\([0-9]*\) connections in \([0-9]*\) real seconds.*/\1/p' <<<"$out")
        [[ -n $count && $count -gt 0 ]] || die "s_time against $s completed no handshake: $out"
        # s_time counts a connection the server refused after the client's side was done (TLS 1.3): every counted one must
        # have been answered (Mesh.HandshakeServer's answer is 41 bytes, s_server's status page longer).
        bytes=$(sed -n 's/^[0-9]* connections in [0-9.]*s;.* bytes read \([0-9]*\).*/\1/p' <<<"$out")
        [[ -n $bytes && $bytes -ge $((count * 41)) ]] || die "$s did not answer every handshake s_time counted (refused callers?): $out"
        [[ $r == warm-up ]] && continue
        record mtls-handshake "$r.$side" "$s" handshakes_per_s "$(calc "$count / $seconds")"
        record mtls-handshake "$r.$side" "$s" server_cpu_us "$(calc "($cpu1 - $cpu0) * 1e6 / $count")"
      done
    done
  done
}

echo "load average at start: $(loadavg)"
case $AREA in
relay) relay_area ;;
gateway) gateway_area ;;
handshake) handshake_area ;;
idle-memory) idle_memory_area ;;
*) die "usage: $0 relay|gateway|handshake|idle-memory [options] (see README.md)" ;;
esac
echo "load average at end: $(loadavg)"
echo "area $AREA, $ROUNDS rounds; ratio = Mesh / peer within each round (above 1: Mesh higher: better for rates, worse for CPU and memory)"
python3 "$PEERS_DIR/load.py" table "$STATE/results"
