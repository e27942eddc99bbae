#!/usr/bin/env bats
# 19-gateway-tls: the gateway on a TLS listener that requires a client
# certificate, with a user name and a password read from password_file.
# A second, private mosquitto (TLS only, password file, no anonymous) is
# started beside the one of services-start; certificates are made here.

load "$HG_SRCDIR/tests/data/gateway/helpers.bash"

setup_file() {
  export GW_EXTRA_CONF=''
  gw_setup_file
  local d="$GWDIR/tls"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hazgate test CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    for n in server client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout $n.key -out $n.csr 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1\n' > $n.ext
      openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile $n.ext -out $n.pem 2>/dev/null
    done
    touch passwd
    mosquitto_passwd -b passwd gw 's3cret pass'
    printf 's3cret pass\n' > gw.password
    chmod 644 ./*
  )
  # A free port, and not the one the gateway's HTTP listener will take.
  TLS_PORT=$(gw_free_port)
  while [ "$TLS_PORT" = "$GW_HTTP_PORT" ]; do TLS_PORT=$(gw_free_port); done
  export TLS_PORT
  cat > "$d/mosquitto.conf" <<CONF
listener $TLS_PORT 127.0.0.1
allow_anonymous false
password_file $d/passwd
cafile $d/ca.pem
certfile $d/server.pem
keyfile $d/server.key
require_certificate true
persistence false
max_queued_messages 0
max_inflight_messages 0
log_dest stderr
CONF
  [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1 && chown -R mosquitto: "$d"
  setsid "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$d/mosquitto.conf" \
    >"$d/mosquitto.log" 2>&1 < /dev/null 3>&- &
  echo $! > "$HG_SVC_DIR/mosquitto-tls.pid"
  for i in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break; sleep 0.1; done
  sed -i -e "s/^port = .*/port = $TLS_PORT/" \
    -e "s|^client_id = .*|client_id = hazgate-tls\nusername = gw\npassword_file = $d/gw.password\ntls_ca = $d/ca.pem\ntls_cert = $d/client.pem\ntls_key = $d/client.key|" "$GWCONF"
}
teardown_file() { gw_teardown_file; }

tls_pub() {
  local d="$GWDIR/tls"
  mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$d/ca.pem" --cert "$d/client.pem" \
    --key "$d/client.key" -u gw -P 's3cret pass' -q 1 "$@"
}

@test "TLS with a client certificate and a password file: connected, fixes stored" {
  gw_start
  grep -q "event=mqtt_connected host=127.0.0.1 port=$TLS_PORT client_id=hazgate-tls" "$GWDIR/log"
  tls_pub -t tankers/TLS1/telemetry -m '{"ts":"2020-01-01T00:00:00Z","lat":38.5,"lon":113.5}'
  wait_sql "SELECT count(*) FROM positions WHERE vehicle = 'TLS1'" "1"
  run gw_stop
  [ "$output" = "0" ]
}

@test "TLS: a wrong password is refused by the broker and retried, not fatal" {
  printf 'wrong\n' > "$GWDIR/tls/bad.password"
  sed "s|^password_file = .*|password_file = $GWDIR/tls/bad.password|" "$GWCONF" > "$GWDIR/bad.conf"
  run timeout --preserve-status -s TERM 3 "$GW" -c "$GWDIR/bad.conf"
  [ "$status" -eq 0 ]     # drained on the TERM from timeout
  [[ "$output" == *"event=mqtt_refused"* ]]
  [[ "$output" == *"event=mqtt_retry"* ]]
  [[ "$output" != *"event=mqtt_connected"* ]]
}
