# The peers and Mesh's programs, each started on a 127.0.0.1 port in front of a target port. Sourced by run.sh.
#
#   peer_available KIND          whether KIND can run here (says which Debian package is missing when not)
#   peer_start KIND LISTEN TARGET  starts KIND, sets PID
#
# L4 relays: haproxy, haproxy-splice, nginx, socat, mesh (samples/Mesh.Relay, kernel path).
# SNI routers, routing *.dc2.internal.example.consul and hellos without SNI to TARGET and closing any other name:
# haproxy-sni, nginx-sni, mesh-gateway (benchmarks/Mesh.GatewayRelay).

NGINX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

peer_available() {
  case $1 in
  haproxy*) has haproxy haproxy ;;
  nginx*)
    has nginx nginx || return 1
    if ! nginx -V 2>&1 | grep -q -- --with-stream= && [[ ! -f $NGINX_STREAM_MODULE ]]; then
      log "skipped: nginx has no stream module (Debian: apt-get install libnginx-mod-stream)"
      return 1
    fi
    ;;
  socat) has socat socat ;;
  mesh*) has dotnet dotnet-sdk-10.0 ;;
  *) die "unknown peer $1" ;;
  esac
}

peer_start() {
  local kind=$1 listen=$2 target=$3
  case $kind in
  haproxy | haproxy-splice | haproxy-sni) haproxy_start "$@" ;;
  nginx | nginx-sni) nginx_start "$@" ;;
  socat) start "$kind" "$listen" socat TCP-LISTEN:"$listen",bind=127.0.0.1,fork,reuseaddr,backlog=4096 TCP:127.0.0.1:"$target" ;;
  mesh) start "$kind" "$listen" dotnet "$(mesh_build samples/Mesh.Relay)" --listen 127.0.0.1:"$listen" --target 127.0.0.1:"$target" --path kernel ;;
  mesh-gateway)
    start "$kind" "$listen" dotnet "$(mesh_build benchmarks/Mesh.GatewayRelay)" --listen 127.0.0.1:"$listen" --target 127.0.0.1:"$target" \
      --trust-domain example.consul --path kernel
    ;;
  *) die "unknown peer $kind" ;;
  esac
}

haproxy_start() {
  local kind=$1 listen=$2 target=$3 config="$STATE/$1-$2.cfg"
  {
    # 2 descriptors a connection and 2 a pipe must stay under the 20,000 a process may open.
    echo "global"
    echo "  maxconn 8000"
    [[ $kind == haproxy-splice ]] && echo "  maxpipes 1000"
    echo "defaults"
    echo "  mode tcp"
    echo "  timeout connect 5s"
    echo "  timeout client 1h"
    echo "  timeout server 1h"
    # Both directions through kernel pipes, as Mesh's kernel path does.
    [[ $kind == haproxy-splice ]] && printf '  option splice-request\n  option splice-response\n'
    echo "frontend in"
    echo "  bind 127.0.0.1:$listen backlog 4096"
    if [[ $kind == haproxy-sni ]]; then
      echo "  tcp-request inspect-delay 5s"
      echo "  tcp-request content reject if { req.ssl_sni -m found } !{ req.ssl_sni -m end .dc2.internal.example.consul }"
      echo "  tcp-request content accept if { req.ssl_hello_type 1 }"
    fi
    echo "  default_backend out"
    echo "backend out"
    echo "  server target 127.0.0.1:$target"
  } >"$config"
  haproxy -c -q -f "$config" || die "haproxy refused $config"
  start "$kind" "$listen" haproxy -db -f "$config"
}

nginx_start() {
  local kind=$1 listen=$2 target=$3 dir="$STATE/$1-$2" server
  mkdir -p "$dir"
  if [[ $kind == nginx-sni ]]; then
    server="map \$ssl_preread_server_name \$route {
    ~\\.dc2\\.internal\\.example\\.consul\$ 127.0.0.1:$target;
    \"\" 127.0.0.1:$target;
    default 127.0.0.1:9;
  }
  server { listen 127.0.0.1:$listen backlog=4096; ssl_preread on; proxy_pass \$route; proxy_timeout 1h; }"
  else
    server="server { listen 127.0.0.1:$listen backlog=4096; proxy_pass 127.0.0.1:$target; proxy_timeout 1h; }"
  fi
  {
    [[ -f $NGINX_STREAM_MODULE ]] && echo "load_module $NGINX_STREAM_MODULE;"
    echo "worker_processes auto;"
    echo "worker_rlimit_nofile 19000;"
    echo "daemon off;"
    echo "pid $dir/nginx.pid;"
    echo "error_log $dir/error.log warn;"
    echo "events { worker_connections 12000; }"
    echo "stream {"
    echo "  $server"
    echo "}"
  } >"$dir/nginx.conf"
  nginx -t -q -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" || die "nginx refused $dir/nginx.conf"
  start "$kind" "$listen" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
}
