-- 001_base: hazgate's tables, roles and their grants.
--
-- Applied by `hazgate-ctl migrate` in one transaction and recorded in
-- schema_migrations. Roles are NOLOGIN groups: a deployment creates login
-- users and grants them one group (CREATE ROLE gw LOGIN IN ROLE hazgate_gateway).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_gateway') THEN
    CREATE ROLE hazgate_gateway NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_dispatcher') THEN
    CREATE ROLE hazgate_dispatcher NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_admin') THEN
    CREATE ROLE hazgate_admin NOLOGIN;
  END IF;
END
$$;

-- Zones: the GeoJSON Feature as imported is the source of truth (the geofence
-- loader parses it); id, name and kind are copied out for queries.
CREATE TABLE zones (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN
                  ('event_venue', 'prohibited', 'restricted', 'corridor', 'depot')),
    feature     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user
);

-- Every version a zone ever had, with the time it was in force, so that an
-- audit can replay a route against the zones of its day.
CREATE TABLE zones_history (
    zone_id     integer NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    feature     jsonb NOT NULL,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz,             -- NULL: in force now
    changed_by  text NOT NULL,
    PRIMARY KEY (zone_id, valid_from)
);

CREATE FUNCTION hazgate_zones_history() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE zones_history SET valid_to = now()
         WHERE zone_id = OLD.id AND valid_to IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        -- Two changes of one zone in one transaction: keep the last.
        DELETE FROM zones_history WHERE zone_id = NEW.id AND valid_from = now();
        INSERT INTO zones_history (zone_id, name, kind, feature, valid_from, changed_by)
        VALUES (NEW.id, NEW.name, NEW.kind, NEW.feature, now(), session_user);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER zones_history AFTER INSERT OR UPDATE OR DELETE ON zones
    FOR EACH ROW EXECUTE FUNCTION hazgate_zones_history();

-- A running gateway reloads its zones when this fires (once per statement).
CREATE FUNCTION hazgate_zones_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hazgate_zones', TG_OP);
    RETURN NULL;
END
$$;
CREATE TRIGGER zones_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON zones
    FOR EACH STATEMENT EXECUTE FUNCTION hazgate_zones_notify();

CREATE TABLE vehicles (
    vehicle       text PRIMARY KEY CHECK (octet_length(vehicle) BETWEEN 1 AND 32),
    un            text,
    hazard_class  text,
    carrier       text,
    note          text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per accepted fix. Partitioned by day on ts; hazgate_ensure_partitions
-- creates days ahead, and a fix for a day without a partition lands in the
-- default partition (and moves into the day's partition when it is created).
CREATE TABLE positions (
    vehicle       text NOT NULL,
    ts            timestamptz NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    speed_kmh     real,
    heading       real,
    alt_m         real,
    hdop          real,
    fix           smallint,
    sats          smallint,
    un            text,
    hazard_class  text,
    seq           bigint,
    ignition      boolean,
    zone_ids      integer[] NOT NULL DEFAULT '{}',
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vehicle, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE positions_default PARTITION OF positions DEFAULT;

-- Create the daily partitions of positions for [start, start + days). Rows
-- already in the default partition for such a day are moved into it.
-- Returns how many partitions it created.
CREATE FUNCTION hazgate_ensure_partitions(start date, days integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d date;
    part text;
    made integer := 0;
BEGIN
    IF days < 1 OR days > 366 THEN
        RAISE EXCEPTION 'hazgate_ensure_partitions: days must be 1..366, not %', days;
    END IF;
    FOR i IN 0 .. days - 1 LOOP
        d := start + i;
        part := format('positions_%s', to_char(d, 'YYYYMMDD'));
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        -- Serialise concurrent callers on the parent.
        LOCK TABLE positions IN SHARE ROW EXCLUSIVE MODE;
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I (LIKE positions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM positions_default
                          WHERE ts >= %L::timestamptz AND ts < %L::timestamptz RETURNING *)
                        INSERT INTO %I SELECT * FROM moved',
                       d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', part);
        EXECUTE format('ALTER TABLE positions ATTACH PARTITION %I
                          FOR VALUES FROM (%L) TO (%L)',
                       part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN
                  ('zone_enter', 'zone_exit', 'prohibited_entry', 'zone_speeding',
                   'overspeed', 'dwell_exceeded', 'route_deviation',
                   'tracker_silent', 'tracker_resumed')),
    severity    text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    vehicle     text NOT NULL,
    zone_id     integer,
    zone_name   text,
    ts          timestamptz NOT NULL,
    lat         double precision,
    lon         double precision,
    speed_kmh   real,
    detail      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    acked_at    timestamptz,
    acked_by    text,
    ack_note    text,
    CHECK ((acked_at IS NULL) = (acked_by IS NULL)),
    -- The same alert delivered twice (broker redelivery, spool replay) is one row.
    UNIQUE NULLS NOT DISTINCT (vehicle, ts, kind, zone_id)
);
CREATE INDEX alerts_open ON alerts (ts) WHERE acked_at IS NULL;
CREATE INDEX alerts_ts ON alerts (ts);

-- What the gateway needs to resume after a restart: the engine's state blob.
CREATE TABLE vehicle_state (
    vehicle     text PRIMARY KEY,
    last_ts     timestamptz NOT NULL,
    lat         double precision,
    lon         double precision,
    state       bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rejects (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    payload      bytea NOT NULL,
    reason       text NOT NULL,
    message      text
);
CREATE INDEX rejects_received_at ON rejects (received_at);

-- Grants. The gateway writes and reads only what it must.
GRANT SELECT ON zones, vehicles TO hazgate_gateway;
GRANT INSERT ON positions, alerts, rejects TO hazgate_gateway;
GRANT SELECT, INSERT, UPDATE ON vehicle_state TO hazgate_gateway;
GRANT SELECT ON alerts TO hazgate_gateway;   -- INSERT ... RETURNING id
GRANT USAGE ON SEQUENCE alerts_id_seq, rejects_id_seq TO hazgate_gateway;
GRANT EXECUTE ON FUNCTION hazgate_ensure_partitions(date, integer) TO hazgate_gateway;

-- Dispatchers read everything and may only acknowledge alerts.
GRANT SELECT ON zones, zones_history, vehicles, positions, alerts, vehicle_state, rejects
    TO hazgate_dispatcher;
GRANT UPDATE (acked_at, acked_by, ack_note) ON alerts TO hazgate_dispatcher;

-- Admins keep zones and vehicles, and read the rest.
GRANT SELECT, INSERT, UPDATE, DELETE ON zones, vehicles TO hazgate_admin;
GRANT SELECT ON zones_history, positions, alerts, vehicle_state, rejects TO hazgate_admin;

REVOKE EXECUTE ON FUNCTION hazgate_ensure_partitions(date, integer) FROM PUBLIC;
