-- 010_registry: the fleet registry (issue 14, DESIGN.md "Rules beyond
-- geometry": vehicles' un, hazard_class, carrier, driver, terminal_phone,
-- routes) and OwnTracks devices mapped to plates (issue 11 item 15).
--
--   - vehicles gains `driver` (on duty) and `routes`: the ids of the
--     corridor zones the vehicle is assigned to, beside the corridors whose
--     GeoJSON `vehicles` list names it (both count);
--   - vehicle_devices maps an OwnTracks tracker (the gateway's vehicle name
--     for it, `user:device`) to a plate: one plate per device;
--   - registry_feed is what the gateway and `hazgate-ctl replay/audit`
--     load: cargo and routes of the vehicles that have any, and the
--     devices. The gateway reads only this view (no driver, no carrier);
--   - every change to either table sends NOTIFY hazgate_registry (once per
--     statement), and a running gateway reloads.
--
-- The checks are those hazgate-ctl applies (ingest's cargo rule: 1..7
-- bytes of printable ASCII without spaces; a phone is the 1..20 BCD digits
-- of a JT/T 808 header, as terminals.phone). NOT VALID: rows written
-- before this migration are kept as they are; the gateway skips (and logs)
-- a row it cannot use.

ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS driver text;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS routes integer[] NOT NULL DEFAULT '{}';
ALTER TABLE vehicles ADD CONSTRAINT vehicles_routes_check
    CHECK (array_position(routes, NULL) IS NULL AND cardinality(routes) <= 64);
ALTER TABLE vehicles ADD CONSTRAINT vehicles_un_check
    CHECK (un ~ '^[!-~]{1,7}$') NOT VALID;
ALTER TABLE vehicles ADD CONSTRAINT vehicles_hazard_class_check
    CHECK (hazard_class ~ '^[!-~]{1,7}$') NOT VALID;
ALTER TABLE vehicles ADD CONSTRAINT vehicles_terminal_phone_check
    CHECK (terminal_phone ~ '^[0-9]{1,20}$') NOT VALID;

CREATE TABLE vehicle_devices (
    device      text PRIMARY KEY CHECK (octet_length(device) BETWEEN 1 AND 32),
    vehicle     text NOT NULL REFERENCES vehicles (vehicle)
                    ON UPDATE CASCADE ON DELETE CASCADE,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_devices_vehicle ON vehicle_devices (vehicle);

-- One row per vehicle with cargo or routes (device NULL), one per device
-- (un, hazard_class, routes NULL). routes as "8,9".
CREATE VIEW registry_feed AS
    SELECT vehicle, NULL::text AS device, un, hazard_class,
           array_to_string(routes, ',') AS routes
      FROM vehicles
     WHERE un IS NOT NULL OR hazard_class IS NOT NULL OR cardinality(routes) > 0
    UNION ALL
    SELECT vehicle, device, NULL, NULL, NULL FROM vehicle_devices;

CREATE FUNCTION hazgate_registry_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hazgate_registry', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER vehicles_registry_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vehicles
    FOR EACH STATEMENT EXECUTE FUNCTION hazgate_registry_notify();
CREATE TRIGGER vehicle_devices_registry_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vehicle_devices
    FOR EACH STATEMENT EXECUTE FUNCTION hazgate_registry_notify();

-- One vehicle's registry row written as hazgate-ctl vehicles import/set
-- do it: p_has says which values are given (bits: 2 un, 4 hazard_class,
-- 8 carrier, 16 driver, 32 terminal_phone, 64 routes, 128 devices; a value
-- not given keeps what is stored, a given NULL clears it). Given devices
-- replace the vehicle's (a device mapped to another vehicle moves). The
-- caller's rights apply (hazgate_admin). Returns true when the vehicle
-- was added, false when it was there.
CREATE FUNCTION hazgate_vehicle_set(p_vehicle text, p_has integer, p_un text, p_class text,
                                    p_carrier text, p_driver text, p_phone text,
                                    p_routes integer[], p_devices text[])
RETURNS boolean
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    added boolean;
BEGIN
    INSERT INTO vehicles AS v (vehicle, un, hazard_class, carrier, driver, terminal_phone, routes)
        VALUES (p_vehicle, p_un, p_class, p_carrier, p_driver, p_phone,
                coalesce(p_routes, '{}'))
        ON CONFLICT (vehicle) DO UPDATE SET
            un = CASE WHEN p_has & 2 <> 0 THEN EXCLUDED.un ELSE v.un END,
            hazard_class = CASE WHEN p_has & 4 <> 0 THEN EXCLUDED.hazard_class
                                ELSE v.hazard_class END,
            carrier = CASE WHEN p_has & 8 <> 0 THEN EXCLUDED.carrier ELSE v.carrier END,
            driver = CASE WHEN p_has & 16 <> 0 THEN EXCLUDED.driver ELSE v.driver END,
            terminal_phone = CASE WHEN p_has & 32 <> 0 THEN EXCLUDED.terminal_phone
                                  ELSE v.terminal_phone END,
            routes = CASE WHEN p_has & 64 <> 0 THEN EXCLUDED.routes ELSE v.routes END,
            updated_at = now()
        RETURNING (xmax = 0) INTO added;
    IF p_has & 128 <> 0 THEN
        DELETE FROM vehicle_devices
         WHERE vehicle = p_vehicle OR device = ANY (coalesce(p_devices, '{}'));
        INSERT INTO vehicle_devices (device, vehicle)
            SELECT unnest(coalesce(p_devices, '{}')), p_vehicle;
    END IF;
    RETURN added;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_vehicle_set(text, integer, text, text, text, text, text,
                                               integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_vehicle_set(text, integer, text, text, text, text, text,
                                              integer[], text[]) TO hazgate_admin;

-- The gateway reads the registry through the view only (001 gave it the
-- whole vehicles table; it never read it).
REVOKE SELECT ON vehicles FROM hazgate_gateway;
GRANT SELECT ON registry_feed TO hazgate_gateway, hazgate_dispatcher, hazgate_admin;
GRANT SELECT ON vehicle_devices TO hazgate_dispatcher, hazgate_admin;
GRANT INSERT, UPDATE, DELETE ON vehicle_devices TO hazgate_admin;
