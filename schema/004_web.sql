-- 004_web: hazgate-web's accounts, sessions and API tokens, and its role.
--
-- hazgate_web is the group of the board's database login (CREATE ROLE web
-- LOGIN IN ROLE hazgate_web): a member of hazgate_dispatcher (it reads what
-- a dispatcher reads and acknowledges through hazgate_ack()), plus its own
-- tables below. Being a member of hazgate_web is what lets a login name the
-- board's user in hazgate_ack(..., p_board_user) (003's
-- hazgate_board_user_check): the board records who clicked, never a typed
-- name. hazgate-ctl users/tokens work as a member of hazgate_admin.
--
-- Secrets are never stored: a password as its Argon2id string
-- (libsodium crypto_pwhash_str, made by hazgate-ctl), a session id and an
-- API token as their SHA-256 (they are 256-bit random values, so a fast
-- hash is enough: nothing to guess). hazgate_web_secret_hash() is that one
-- hash, used by hazgate-web and hazgate-ctl alike.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_web') THEN
    CREATE ROLE hazgate_web NOLOGIN;
  END IF;
END
$$;
GRANT hazgate_dispatcher TO hazgate_web;

-- The board's accounts. name: what the board shows and what acked_by
-- records.
CREATE TABLE web_users (
    name        text PRIMARY KEY
                CHECK (length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'
                       AND name !~ '^token:'),
    role        text NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'admin')),
    pwhash      text NOT NULL CHECK (pwhash LIKE '$argon2id$%'),
    disabled    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT session_user,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- A logged-in browser. The cookie holds the id; the table its SHA-256.
-- Valid while not idle for [web] session_idle_s (last_seen) and younger
-- than session_max_s (created_at): hazgate-web judges both at each request,
-- with its configured limits.
CREATE TABLE web_sessions (
    id_hash     bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    user_name   text NOT NULL REFERENCES web_users (name) ON DELETE CASCADE
                                                          ON UPDATE CASCADE,
    csrf        text NOT NULL,
    address     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_user ON web_sessions (user_name);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);

-- Bearer tokens for machines (hazgate-ctl tokens add). An acknowledgement
-- made with one is recorded as 'token:NAME'.
CREATE TABLE web_tokens (
    name        text PRIMARY KEY
                CHECK (length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'),
    role        text NOT NULL CHECK (role IN ('viewer', 'dispatcher')),
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT session_user,
    revoked_at  timestamptz,
    last_used   timestamptz
);

-- The one hash of a session id or token.
CREATE FUNCTION hazgate_web_secret_hash(secret text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sha256(convert_to(secret, 'UTF8'))
$$;

-- RFC 3339 UTC as hazgate writes it: milliseconds, or microseconds when
-- the time is not a whole millisecond ("2019-08-10T08:03:12.000Z").
CREATE FUNCTION hazgate_web_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(microseconds FROM t)::bigint % 1000 = 0
                THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END
$$;

-- An alert as the API and the stream give it: DESIGN's alert JSON plus
-- acked_at, acked_by, ack_note.
CREATE FUNCTION hazgate_web_alert(a alerts) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('id', a.id, 'kind', a.kind, 'severity', a.severity,
        'vehicle', a.vehicle, 'zone_id', a.zone_id, 'zone', a.zone_name,
        'ts', hazgate_web_time(a.ts), 'lat', a.lat, 'lon', a.lon,
        'speed_kmh', a.speed_kmh, 'detail', a.detail,
        'acked_at', hazgate_web_time(a.acked_at), 'acked_by', a.acked_by,
        'ack_note', a.ack_note)
$$;

-- The board lists alerts newest first, open ones by their own index.
CREATE INDEX alerts_vehicle_ts ON alerts (vehicle, ts);

-- Grants. The board reads accounts and tokens, and keeps its sessions.
GRANT SELECT ON web_users TO hazgate_web;
GRANT SELECT, UPDATE (last_used) ON web_tokens TO hazgate_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessions TO hazgate_web;
-- The administrator manages accounts and tokens (hazgate-ctl users, tokens)
-- and ends the sessions of a disabled account or a changed password.
GRANT SELECT, INSERT, UPDATE ON web_users, web_tokens TO hazgate_admin;
GRANT SELECT, DELETE ON web_sessions TO hazgate_admin;
