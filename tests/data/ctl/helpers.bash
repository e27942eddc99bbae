# helpers.bash - shared by tests/integration/41..43-ctl-*.bats: a private
# PostgreSQL filled by replaying the shared fleet sample through the engine
# (fill-db.sh), and short names for hazgate-ctl, the dispatcher and psql.

setup_file() {
  eval "$("$HG_SRCDIR/scripts/services-start" --no-mqtt)"
  export HG_SVC_DIR PGHOST PGPORT PGUSER PGDATABASE HG_PG_CONNINFO
  "$HG_SRCDIR/tests/data/ctl/fill-db.sh" "$HG_SVC_DIR"
}

teardown_file() {
  "$HG_SRCDIR/scripts/services-stop" "$HG_SVC_DIR"
}

ctl() { "$HG_BUILDDIR/hazgate-ctl" "$@"; }
disp() { "$HG_BUILDDIR/hazgate-ctl" -d "host=$PGHOST port=$PGPORT user=t_disp dbname=hazgate" "$@"; }
q() { psql -XqAt -v ON_ERROR_STOP=1 -c "$*"; }
EXPECTED="$HG_SHARED/data/expected-sample.ndjson"
