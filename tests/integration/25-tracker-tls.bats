#!/usr/bin/env bats
# 25-tracker-tls: the tracker against a mosquitto that wants TLS, a client
# certificate and a user name with a password (from a file).  Certificates
# are made for the test with openssl (a throwaway CA, a server certificate
# for 127.0.0.1, a client certificate); the broker runs from this test's
# services folder and its PID is recorded there.

# teardown and teardown_file: helpers.bash; setup_file is this file's own
# (a broker that wants TLS instead of the shared one).
load "$HG_SRCDIR/tests/data/tracker/helpers.bash"

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-pg --no-mqtt)"
  export HG_SVC_DIR
  TRK_GPSD_PORT=$(trk_free_port)
  HG_MQTT_PORT=$(trk_free_port)
  export TRK_GPSD_PORT HG_MQTT_PORT
  local d="$HG_SVC_DIR/tls"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=hazgate test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
        -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out server.crt -days 2 -extfile san.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
        -subj "/CN=tanker-A10005" 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out client.crt -days 2 2>/dev/null
    # Another CA, which did not sign the server's certificate.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
        -subj "/CN=some other CA" 2>/dev/null
    mosquitto_passwd -c -b passwd tanker s3cret
    printf 's3cret\n' > tracker.password
    printf 'wrong\n' > wrong.password
    chmod 644 ./*
    cat > mosquitto.conf <<EOF
listener $HG_MQTT_PORT 127.0.0.1
cafile $d/ca.pem
certfile $d/server.crt
keyfile $d/server.key
require_certificate true
allow_anonymous false
password_file $d/passwd
persistence false
log_dest stderr
connection_messages true
EOF
  )
  chmod 755 "$d"
  local mosq
  mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  "$mosq" -c "$d/mosquitto.conf" >>"$d/mosquitto.log" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/mosquitto-tls.pid"
  wait_until 10 trk_port_busy "$HG_MQTT_PORT"
}


tls_sub() {
  local d="$HG_SVC_DIR/tls"
  mosquitto_sub -h 127.0.0.1 -p "$HG_MQTT_PORT" --cafile "$d/ca.pem" --cert "$d/client.crt" \
      --key "$d/client.key" -u tanker -P s3cret "$@"
}

exec_tls_sub() {
  local d="$HG_SVC_DIR/tls"
  exec mosquitto_sub -h 127.0.0.1 -p "$HG_MQTT_PORT" --cafile "$d/ca.pem" --cert "$d/client.crt" \
      --key "$d/client.key" -u tanker -P s3cret "$@"
}

tls_config() {
  local f=$1; shift
  local d="$HG_SVC_DIR/tls"
  trk_config "$f" "[mqtt]" "tls_ca = $d/ca.pem" "tls_cert = $d/client.crt" \
      "tls_key = $d/client.key" "username = tanker" "password_file = $d/tracker.password" "$@"
}

@test "TLS with a client certificate and a password file: telemetry arrives" {
  head -41 "$TRK_DRIVE" > "$HG_SVC_DIR/twenty.nmea"     # 20 fixes
  tls_sub -q 1 -c -i tlssub -t "tankers/+/telemetry" -E
  # exec: the recorded PID is mosquitto_sub's own, not a subshell's that
  # would leave it running when services-stop ends the PID.
  ( exec_tls_sub -q 1 -c -i tlssub -t "tankers/+/telemetry" -v ) >"$HG_SVC_DIR/tls.out" 2>&1 3>&- &
  echo $! > "$HG_SVC_DIR/sub-tls.pid"
  tls_config "$HG_SVC_DIR/t.conf"
  trk_start_tracker "$HG_SVC_DIR/t.conf"
  wait_until 10 trk_log_has "event=mqtt_connected"
  trk_play 1 "$HG_SVC_DIR/twenty.nmea"
  trk_wait_play 1
  wait_until 10 trk_count_at_least tls 10
  wait_until 10 trk_count_stable tls
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  run trk_check tls --nmea "$HG_SVC_DIR/twenty.nmea" --policy "$TRK_POLICY" --first-seq 1 \
      --expect-count 10
  echo "$output"
  [ "$status" -eq 0 ]
  # The retained offline is there for a TLS client too.
  run tls_sub -t "tankers/$TRK_VEHICLE/status" -C 1 -W 5
  [ "$output" = "offline" ]
}

@test "a wrong password is refused: nothing sent, the report stays queued" {
  : > "$HG_SVC_DIR/tracker.log"
  tls_config "$HG_SVC_DIR/wrong.conf" "password_file = $HG_SVC_DIR/tls/wrong.password" \
      "[queue]" "dir = $HG_SVC_DIR/queue-wrong"
  head -3 "$TRK_DRIVE" > "$HG_SVC_DIR/one.nmea"
  trk_start_tracker "$HG_SVC_DIR/wrong.conf"
  trk_play 2 "$HG_SVC_DIR/one.nmea"
  trk_wait_play 2
  wait_until 10 trk_log_has "event=mqtt_refused"
  sleep 1
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  ! trk_log_has "event=mqtt_connected"
  grep -q "event=exit .* reported=1 .* acked=0 pending=1 " "$HG_SVC_DIR/tracker.log"
}

@test "a server certificate from another CA is not trusted" {
  : > "$HG_SVC_DIR/tracker.log"
  tls_config "$HG_SVC_DIR/other.conf" "tls_ca = $HG_SVC_DIR/tls/other.pem" \
      "[queue]" "dir = $HG_SVC_DIR/queue-other"
  trk_start_tracker "$HG_SVC_DIR/other.conf"
  wait_until 10 trk_log_has "event=mqtt_retry"
  sleep 1
  rc=0; trk_stop_tracker || rc=$?
  [ "$rc" -eq 0 ]
  ! trk_log_has "event=mqtt_connected"
  trk_log_has "certificate verify failed"
}

@test "a missing password file is a startup error" {
  tls_config "$HG_SVC_DIR/nopw.conf" "password_file = $HG_SVC_DIR/tls/nonexistent"
  run "$TRK_BIN" -c "$HG_SVC_DIR/nopw.conf"
  [ "$status" -eq 1 ]
  [[ "$output" == *"event=mqtt_setup_failed"*"nonexistent: cannot open password file"* ]]
}
