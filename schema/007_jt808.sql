-- 007_jt808: hazgate-jt808's registry of JT/T 808 terminals.
--
-- A terminal is known by its phone number: the BCD digits of its message
-- header, leading zeros kept (12 from a 2013 header, 20 from a 2019 one).
-- vehicles.terminal_phone maps it to a plate; `terminals` holds what the
-- server learns: the plate the terminal registered with, the SHA-256 of the
-- auth code it was given (never the code), when it registered and was last
-- seen. hazgate-jt808 reads the view jt808_registry at start and rereads a
-- terminal's row on NOTIFY hazgate_jt808 (payload: the phone), which the
-- triggers below send on every change to either table.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_jt808') THEN
    CREATE ROLE hazgate_jt808 NOLOGIN;
  END IF;
END
$$;

ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS terminal_phone text;
CREATE UNIQUE INDEX IF NOT EXISTS vehicles_terminal_phone ON vehicles (terminal_phone);

CREATE TABLE terminals (
    phone          text PRIMARY KEY CHECK (phone ~ '^[0-9]{1,20}$'),
    plate          text,            -- as registered (0x0100, GBK converted to UTF-8)
    auth_hash      bytea CHECK (auth_hash IS NULL OR octet_length(auth_hash) = 32),
    registered_at  timestamptz,
    last_seen      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- What hazgate-jt808 loads: every terminal either table knows, its vehicle
-- (the plate mapped by vehicles.terminal_phone, NULL: published under its
-- phone) and its auth code's hash (NULL: none yet).
CREATE VIEW jt808_registry AS
    SELECT p.phone, v.vehicle, t.auth_hash
      FROM (SELECT phone FROM terminals
            UNION SELECT terminal_phone FROM vehicles WHERE terminal_phone IS NOT NULL) p
      LEFT JOIN terminals t ON t.phone = p.phone
      LEFT JOIN vehicles v ON v.terminal_phone = p.phone;

CREATE FUNCTION hazgate_jt808_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    col text := CASE WHEN TG_TABLE_NAME = 'vehicles' THEN 'terminal_phone' ELSE 'phone' END;
    o text;
    n text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o := to_jsonb(OLD) ->> col;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := to_jsonb(NEW) ->> col;
    END IF;
    IF o IS NOT NULL THEN
        PERFORM pg_notify('hazgate_jt808', o);
    END IF;
    IF n IS NOT NULL AND n IS DISTINCT FROM o THEN
        PERFORM pg_notify('hazgate_jt808', n);
    END IF;
    RETURN NULL;
END
$$;
-- last_seen alone changes nothing the server holds: no notification.
CREATE TRIGGER terminals_jt808_notify
    AFTER INSERT OR DELETE OR UPDATE OF phone, auth_hash ON terminals
    FOR EACH ROW EXECUTE FUNCTION hazgate_jt808_notify();
CREATE TRIGGER vehicles_jt808_notify
    AFTER INSERT OR DELETE OR UPDATE OF vehicle, terminal_phone ON vehicles
    FOR EACH ROW EXECUTE FUNCTION hazgate_jt808_notify();

-- A terminal registered (0x0100) with hazgate-jt808: its row, the hash of
-- its new code, and, when it gave a plate and no vehicle has it yet, the
-- vehicle of that plate gets it as its terminal (made if absent; a vehicle
-- that already has another terminal keeps it).
CREATE FUNCTION hazgate_jt808_register(p_phone text, p_plate text, p_hash bytea)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO terminals (phone, plate, auth_hash, registered_at)
        VALUES (p_phone, nullif(p_plate, ''), p_hash, now())
        ON CONFLICT (phone) DO UPDATE
            SET plate = coalesce(EXCLUDED.plate, terminals.plate),
                auth_hash = EXCLUDED.auth_hash, registered_at = now();
    IF coalesce(p_plate, '') <> ''
       AND NOT EXISTS (SELECT 1 FROM vehicles WHERE terminal_phone = p_phone) THEN
        INSERT INTO vehicles (vehicle, terminal_phone) VALUES (p_plate, p_phone)
            ON CONFLICT (vehicle) DO UPDATE SET terminal_phone = EXCLUDED.terminal_phone,
                                                updated_at = now()
            WHERE vehicles.terminal_phone IS NULL;
    END IF;
END
$$;

-- Terminals that authenticated since the last call.
CREATE FUNCTION hazgate_jt808_seen(p_phones text[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO terminals (phone, last_seen)
        SELECT DISTINCT unnest(p_phones), now()
        ON CONFLICT (phone) DO UPDATE SET last_seen = now();
$$;

-- An operator's provisioning (jt808/README.md): the terminal known (so
-- that unknown_terminals = refuse lets it register), mapped to p_vehicle
-- when given (the vehicle row made if absent), and, when p_code is given,
-- the auth code it already has (from a former platform) accepted as is.
CREATE FUNCTION hazgate_jt808_provision(p_phone text, p_vehicle text DEFAULT NULL,
                                        p_code text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO terminals (phone, auth_hash)
        VALUES (p_phone, CASE WHEN p_code IS NULL THEN NULL
                              ELSE sha256(convert_to(p_code, 'UTF8')) END)
        ON CONFLICT (phone) DO UPDATE
            SET auth_hash = coalesce(EXCLUDED.auth_hash, terminals.auth_hash);
    IF p_vehicle IS NOT NULL THEN
        UPDATE vehicles SET terminal_phone = NULL, updated_at = now()
            WHERE terminal_phone = p_phone AND vehicle <> p_vehicle;
        INSERT INTO vehicles (vehicle, terminal_phone) VALUES (p_vehicle, p_phone)
            ON CONFLICT (vehicle) DO UPDATE SET terminal_phone = EXCLUDED.terminal_phone,
                                                updated_at = now();
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION hazgate_jt808_register(text, text, bytea),
    hazgate_jt808_seen(text[]), hazgate_jt808_provision(text, text, text) FROM PUBLIC;
GRANT SELECT ON jt808_registry TO hazgate_jt808;
GRANT EXECUTE ON FUNCTION hazgate_jt808_register(text, text, bytea),
    hazgate_jt808_seen(text[]) TO hazgate_jt808;
GRANT INSERT ON rejects TO hazgate_jt808;
GRANT USAGE ON SEQUENCE rejects_id_seq TO hazgate_jt808;
GRANT SELECT ON schema_migrations TO hazgate_jt808;

GRANT SELECT ON terminals TO hazgate_dispatcher, hazgate_admin;
GRANT INSERT, UPDATE, DELETE ON terminals TO hazgate_admin;
GRANT EXECUTE ON FUNCTION hazgate_jt808_provision(text, text, text) TO hazgate_admin;
