# web-bench.bash: what bench_web.sh and bench_web_api.sh share (sourced).
# Needs $work (the run's folder) and PGPORT, PGDATABASE from services-start.

# free_port: a TCP port on 127.0.0.1 nobody listens on (20000-31999).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

# web_bench_conf PORT METRICS_PORT: hazgate-web's configuration in
# $work/web.conf (login hgbench, a one-page assets folder, warnings only).
web_bench_conf() {
  mkdir -p "$work/assets"
  echo '<!doctype html><title>bench</title>' > "$work/assets/index.html"
  cat > "$work/web.conf" <<CONF
[web]
listen = 127.0.0.1:$1
metrics_listen = 127.0.0.1:$2
assets = $work/assets
[postgres]
conninfo = host=127.0.0.1 port=$PGPORT user=hgbench dbname=$PGDATABASE
[log]
level = warn
CONF
}
