#!/usr/bin/env bats
# 62-web-hooks: hazgate-web's webhooks against the real gateway, PostgreSQL
# and mosquitto, and a local receiver (tests/web-hook-receiver.py) that
# checks each signature: every committed alert is POSTed, signed, in order;
# a hook's kinds and min_severity filter; a receiver answering 500 gets the
# alert again until it answers 2xx; hazgate-web killed (SIGKILL) mid-stream
# and restarted delivers every alert, in order, duplicates only across the
# restart; the counters in /metrics.

load "$HG_SRCDIR/tests/data/web/live.bash"

setup_file() {
  web_setup_file
  echo "hook-secret-$RANDOM$RANDOM" > "$GWDIR/secret"
  echo "another secret" > "$GWDIR/secret2"
  export RPORT=$(gw_free_port)
}
teardown_file() { web_teardown_file; }

# receiver LOG [OPTIONS]: start the receiver on RPORT.
receiver() {
  local log=$1; shift
  : > "$log"
  python3 "$RECEIVER" "$RPORT" "$GWDIR/secret" "$log" --pid "$HG_SVC_DIR/receiver.pid" "$@" \
    >>"$GWDIR/receiver.err" 2>&1 3>&- &
  for i in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$RPORT") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
receiver_stop() { kill "$(cat "$HG_SVC_DIR/receiver.pid")"; rm -f "$HG_SVC_DIR/receiver.pid"; sleep 0.3; }

# delivered LOG [PATH]: the ids answered 200 (on PATH), in order.
delivered() { awk -F'\t' -v p="${2:-}" '$3 == 200 && (p == "" || $4 == p) { print $1 }' "$1"; }

teardown() {
  [ -f "$HG_SVC_DIR/web.pid" ] && kill -0 "$(cat "$HG_SVC_DIR/web.pid")" 2>/dev/null &&
    { web_stop || web_stop KILL; }
  [ -f "$HG_SVC_DIR/receiver.pid" ] && receiver_stop
  true
}

hook_metric() { curl -s "http://127.0.0.1:$WEB_MPORT/metrics" | awk -v m="$1{hook=\"$2\"}" '$1 == m { print $2 }'; }

@test "every committed alert is POSTed to a matching hook, signed, in order; filters apply" {
  receiver "$GWDIR/h1.log"
  web_start "$(hook all "http://127.0.0.1:$RPORT/in" "$GWDIR/secret"
               hook crit "http://127.0.0.1:$RPORT/crit?x=1" "$GWDIR/secret" "zone_exit, prohibited_entry" warning
               hook exits "http://127.0.0.1:$RPORT/exits" "$GWDIR/secret" zone_exit)"
  # a new hook starts at the newest alert stored: nothing old is sent
  wait_sql "SELECT count(*) FROM webhook_cursors" 3
  base=$(q "SELECT coalesce(max(id), 0) FROM alerts")
  fixes H1 0 20
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'H1'" 20
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE id > $base")
  wait_sql "SELECT last_id FROM webhook_cursors WHERE hook = 'all'" "$(q "SELECT max(id) FROM alerts")"
  wait_sql "SELECT last_id FROM webhook_cursors WHERE hook = 'exits'" "$(q "SELECT max(id) FROM alerts WHERE kind = 'zone_exit'")"
  sleep 0.5
  # "all" got the 20 in order, "exits" the 10 zone_exit, "crit" none
  # (zone_exit is info, below warning)
  [ "$(delivered "$GWDIR/h1.log" /in | paste -sd' ')" = "$want" ]
  [ "$(delivered "$GWDIR/h1.log" /exits | paste -sd' ')" = \
    "$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE id > $base AND kind = 'zone_exit'")" ]
  [ "$(delivered "$GWDIR/h1.log" '/crit?x=1' | wc -l)" = 0 ]
  [ "$(cut -f2 "$GWDIR/h1.log" | sort -u)" = good ]
  [ "$(hook_metric hazgate_web_webhook_delivered_total all)" = 20 ]
  [ "$(hook_metric hazgate_web_webhook_delivered_total exits)" = 10 ]
  [ "$(hook_metric hazgate_web_webhook_delivered_total crit)" = 0 ]
  [ "$(hook_metric hazgate_web_webhook_backlog all)" = 0 ]
  [ "$(hook_metric hazgate_web_webhook_failed_attempts_total all)" = 0 ]
}

@test "the body is the alert JSON and the signature is HMAC-SHA256 of it (a wrong secret is caught)" {
  # the receiver checks with secret; this hook signs with secret2
  receiver "$GWDIR/h2.log"
  web_start "$(hook wrong "http://127.0.0.1:$RPORT/in" "$GWDIR/secret2")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'wrong'" 1
  fixes H2 0 1
  wait_grep 1 . "$GWDIR/h2.log"
  [ "$(head -1 "$GWDIR/h2.log" | cut -f2,3)" = "$(printf 'bad\t401')" ]
}

@test "a receiver answering 500 gets the alert again, with backoff, until it answers 200" {
  receiver "$GWDIR/h3.log" --fail-first 3
  web_start "$(hook flaky "http://127.0.0.1:$RPORT/in" "$GWDIR/secret")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'flaky'" 1
  fixes H3 0 2
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'H3'" 2
  a=$(q "SELECT min(id) FROM alerts WHERE vehicle = 'H3'")
  b=$(q "SELECT max(id) FROM alerts WHERE vehicle = 'H3'")
  wait_sql "SELECT last_id FROM webhook_cursors WHERE hook = 'flaky'" "$b"
  sleep 0.3
  [ "$(cut -f1,3 "$GWDIR/h3.log" | paste -sd' ')" = "$a	500 $a	500 $a	500 $a	200 $b	200" ]
  [ "$(hook_metric hazgate_web_webhook_failed_attempts_total flaky)" = 3 ]
  [ "$(hook_metric hazgate_web_webhook_delivered_total flaky)" = 2 ]
  grep -q 'event=webhook_failed hook=flaky.*status=500' "$WEB_LOG"
}

@test "a receiver that is down is retried until it is up" {
  web_start "$(hook late "http://127.0.0.1:$RPORT/in" "$GWDIR/secret")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'late'" 1
  fixes H4 0 3
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'H4'" 3
  for i in $(seq 1 50); do [ "$(hook_metric hazgate_web_webhook_failed_attempts_total late)" -ge 2 ] && break; sleep 0.1; done
  [ "$(hook_metric hazgate_web_webhook_failed_attempts_total late)" -ge 2 ]
  receiver "$GWDIR/h4.log"
  wait_sql "SELECT last_id FROM webhook_cursors WHERE hook = 'late'" "$(q "SELECT max(id) FROM alerts WHERE vehicle = 'H4'")"
  [ "$(delivered "$GWDIR/h4.log" | paste -sd' ')" = "$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE vehicle = 'H4'")" ]
}

@test "killed (SIGKILL) mid-stream and restarted: every alert delivered, in order, duplicates only across the restart" {
  receiver "$GWDIR/h5.log" --delay-ms 20
  web_start "$(hook k "http://127.0.0.1:$RPORT/in" "$GWDIR/secret")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'k'" 1
  base=$(q "SELECT last_id FROM webhook_cursors WHERE hook = 'k'")
  fixes H5 0 150
  fixes H6 0 150
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle IN ('H5', 'H6')" 300
  # mid-stream: some delivered, most not
  wait_grep 40 . "$GWDIR/h5.log"
  web_stop KILL
  # the request in flight is answered (and logged) by the receiver still
  sleep 0.5
  echo RESTART >> "$GWDIR/h5.log"
  n_before=$(delivered "$GWDIR/h5.log" | wc -l)
  [ "$n_before" -lt 300 ]
  web_start "$(hook k "http://127.0.0.1:$RPORT/in" "$GWDIR/secret")"
  last=$(q "SELECT max(id) FROM alerts")
  wait_sql "SELECT last_id FROM webhook_cursors WHERE hook = 'k'" "$last" 60
  sleep 0.3
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE id > $base")
  # before and after the restart: each strictly ascending
  sed '/^RESTART$/,$d' "$GWDIR/h5.log" | awk -F'\t' '$3 == 200 { print $1 }' > "$GWDIR/before"
  sed '1,/^RESTART$/d' "$GWDIR/h5.log" | awk -F'\t' '$3 == 200 { print $1 }' > "$GWDIR/after"
  sort -n -c -u "$GWDIR/before"
  sort -n -c -u "$GWDIR/after"
  # together: every alert; the ones twice were delivered before the kill
  [ "$(sort -n -u "$GWDIR/before" "$GWDIR/after" | paste -sd' ')" = "$want" ]
  dups=$(sort -n "$GWDIR/before" "$GWDIR/after" | uniq -d | wc -l)
  [ "$dups" -le 3 ]
  # the restart resumed from the saved cursor, not from the start
  [ "$(head -1 "$GWDIR/after")" -gt "$(head -1 "$GWDIR/before")" ]
  [ "$(cut -f2 "$GWDIR/h5.log" | grep -v RESTART | sort -u)" = good ]
}

@test "https: the receiver's certificate is verified (name and CA); a trusted one gets every alert" {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$GWDIR/tls.key" -out "$GWDIR/tls.crt" 2>/dev/null
  receiver "$GWDIR/h7.log" --tls "$GWDIR/tls.crt" "$GWDIR/tls.key"
  # not trusted (the system's CAs only): refused, retried, nothing delivered
  web_start "$(hook untrusted "https://localhost:$RPORT/in" "$GWDIR/secret")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'untrusted'" 1
  fixes H7 0 1
  for i in $(seq 1 50); do [ "$(hook_metric hazgate_web_webhook_failed_attempts_total untrusted)" -ge 2 ] && break; sleep 0.1; done
  [ "$(hook_metric hazgate_web_webhook_failed_attempts_total untrusted)" -ge 2 ]
  [ "$(delivered "$GWDIR/h7.log" | wc -l)" = 0 ]
  web_stop
  # trusted (SSL_CERT_FILE, OpenSSL's default path), by name and by address
  SSL_CERT_FILE="$GWDIR/tls.crt" web_start "$(hook byname "https://localhost:$RPORT/in" "$GWDIR/secret"
    hook byip "https://127.0.0.1:$RPORT/ip" "$GWDIR/secret")"
  wait_sql "SELECT count(*) FROM webhook_cursors WHERE hook = 'byip'" 1
  fixes H8 0 5
  wait_sql "SELECT count(*) FROM alerts WHERE vehicle = 'H8'" 5
  want=$(q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM alerts WHERE vehicle = 'H8'")
  wait_sql "SELECT min(last_id) FROM webhook_cursors WHERE hook IN ('byname', 'byip')" "$(q "SELECT max(id) FROM alerts")"
  sleep 0.3
  [ "$(delivered "$GWDIR/h7.log" /in | paste -sd' ')" = "$want" ]
  [ "$(delivered "$GWDIR/h7.log" /ip | paste -sd' ')" = "$want" ]
  [ "$(cut -f2 "$GWDIR/h7.log" | sort -u)" = good ]
}

@test "a hook with an unreadable secret, a url that is not http(s) or an unknown kind: hazgate-web refuses to start" {
  refused() {
    web_conf "$1"
    run "$WEB" -c "$WEBDIR/web.conf"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$2"* ]]
  }
  refused "$(hook bad http://127.0.0.1:1/ "$GWDIR/missing")" "event=webhook_secret_unreadable hook=bad"
  refused "$(hook ftp http:///x "$GWDIR/secret")" "event=webhook_bad_url hook=ftp"
  refused "$(hook k2 http://127.0.0.1:1/ "$GWDIR/secret" "zone_enter,nope")" "event=webhook_bad_kinds hook=k2"
}

@test "a hook may ask for the rules' kinds (terminal_alarm, fatigue_driving ...): the engine's names are the list" {
  web_conf "$(hook r http://127.0.0.1:1/ "$GWDIR/secret" "terminal_alarm,fatigue_driving,unauthorized_stop")"
  run timeout 3 "$WEB" -c "$WEBDIR/web.conf"
  [ "$status" -eq 124 ]   # still running: started
  [[ "$output" != *"webhook_bad_kinds"* ]]
}
