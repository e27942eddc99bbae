-- 011_zones_past: zones for past days, and the terminals' alarms stored
-- with the positions (issue 14).
--
--   - hazgate_zones_import_period(zones, valid_from, valid_to, replace)
--     records a zone file as in force over [valid_from, valid_to) in
--     zones_history, so that an auditor who receives last month's zone
--     file can audit against it. SECURITY DEFINER, for hazgate_admin only:
--     no role writes zones_history directly (its trigger and this
--     function do). A period that includes now (valid_to NULL) also
--     updates the live zones (the zones trigger, NOTIFY: a gateway
--     reloads); a past period leaves them alone.
--   - positions.alarms: the terminal alarms the fix reported raised, as a
--     bit mask by JT/T 808 alarm bit (common/hz_alarm.h; bit 31 makes the
--     integer negative); NULL when the fix said nothing about alarms, 0
--     when it said none. hazgate-ctl audit re-decides terminal_alarm and
--     terminal_alarm_cleared from it.

ALTER TABLE positions ADD COLUMN alarms integer;

-- The history of zone p_zone over [p_from, p_to) (p_to NULL: from p_from
-- on) is cut away: a version that began before keeps its part before, one
-- that ended after keeps its part after (a version covering the whole
-- period becomes two), versions inside are deleted. Returns the number of
-- versions changed. Internal: no role may call it.
CREATE FUNCTION hazgate_zones_history_cut(p_zone integer, p_from timestamptz,
                                          p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
    total integer := 0;
BEGIN
    IF p_to IS NOT NULL THEN
        -- Covering the whole period: its part after p_to, as a version of
        -- its own (the rest is cut at p_from just below).
        INSERT INTO zones_history (zone_id, name, kind, feature, valid_from, valid_to,
                                   changed_by)
        SELECT zone_id, name, kind, feature, p_to, valid_to, changed_by
          FROM zones_history
         WHERE zone_id = p_zone AND valid_from < p_from
           AND (valid_to IS NULL OR valid_to > p_to);
        -- Beginning inside, ending after: it begins at p_to.
        UPDATE zones_history SET valid_from = p_to
         WHERE zone_id = p_zone AND valid_from >= p_from AND valid_from < p_to
           AND (valid_to IS NULL OR valid_to > p_to);
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END IF;
    -- Beginning before, ending inside or after: it ends at p_from.
    UPDATE zones_history SET valid_to = p_from
     WHERE zone_id = p_zone AND valid_from < p_from
       AND (valid_to IS NULL OR valid_to > p_from);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    -- Inside.
    DELETE FROM zones_history
     WHERE zone_id = p_zone AND valid_from >= p_from
       AND (p_to IS NULL OR (valid_to IS NOT NULL AND valid_to <= p_to));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN total + n;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_zones_history_cut(integer, timestamptz, timestamptz)
    FROM PUBLIC;

-- p_zones: a JSON array of {"id","name","kind","feature"} (what hazgate-ctl
-- zones import sends, after the geofence loader has checked the file).
-- Over [p_from, p_to) each zone of the array is in force as given,
-- whatever the history said before (the later import wins over its
-- period); with p_replace the zones not in the array are in force nowhere
-- in the period. Importing the same file for the same period again
-- changes nothing. p_to NULL: from p_from on, the live zones included.
-- Returns one row per zone: 'added' (the zone had no version in the
-- period), 'replaced' (versions in the period were cut away), 'unchanged'
-- (exactly this version over exactly this period was there already),
-- 'withdrawn' (p_replace: a zone not in the array, cut out of the
-- period). Refuses (SQLSTATE 22023) a period that is empty, begins before
-- 2000, ends in the future or begins in the future.
CREATE FUNCTION hazgate_zones_import_period(p_zones jsonb, p_from timestamptz,
                                            p_to timestamptz, p_replace boolean)
RETURNS TABLE (zone_id integer, result text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    z record;
    ids integer[];
    had integer[];      -- the file's zones with a version in the period before
BEGIN
    IF p_from IS NULL OR jsonb_typeof(p_zones) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'a period needs its start and an array of zones'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from < timestamptz '2000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION 'valid_from % is before 2000', p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to IS NOT NULL AND p_to <= p_from THEN
        RAISE EXCEPTION 'valid_to % is not after valid_from %', p_to, p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to IS NOT NULL AND p_to > now() THEN
        RAISE EXCEPTION 'valid_to % is in the future', p_to
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'leave valid_to out for zones in force from valid_from on, now included';
    END IF;
    IF p_from > now() THEN
        RAISE EXCEPTION 'valid_from % is in the future', p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    ids := ARRAY(SELECT (e->>'id')::integer FROM jsonb_array_elements(p_zones) AS e);
    IF array_position(ids, NULL) IS NOT NULL
       OR (SELECT count(DISTINCT i) FROM unnest(ids) AS i) <> cardinality(ids) THEN
        RAISE EXCEPTION 'every zone needs an id of its own'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- One import at a time (as hazgate-ctl zones import); readers go on.
    LOCK TABLE zones IN SHARE ROW EXCLUSIVE MODE;
    LOCK TABLE zones_history IN SHARE ROW EXCLUSIVE MODE;
    had := ARRAY(SELECT DISTINCT h.zone_id FROM zones_history h
                  WHERE h.zone_id = ANY (ids)
                    AND (p_to IS NULL OR h.valid_from < p_to)
                    AND (h.valid_to IS NULL OR h.valid_to > p_from));

    IF p_to IS NULL THEN
        -- The period includes now: the live set too, as zones import does
        -- (its trigger records the changes from now; cut below).
        INSERT INTO zones AS cur (id, name, kind, feature, updated_by)
        SELECT (e->>'id')::integer, e->>'name', e->>'kind', e->'feature', session_user
          FROM jsonb_array_elements(p_zones) AS e
        ON CONFLICT (id) DO UPDATE
           SET name = EXCLUDED.name, kind = EXCLUDED.kind, feature = EXCLUDED.feature,
               updated_at = now(), updated_by = session_user
         WHERE (cur.name, cur.kind, cur.feature) IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.feature);
        IF p_replace THEN
            DELETE FROM zones WHERE id <> ALL (ids);
        END IF;
    END IF;

    FOR z IN SELECT (e->>'id')::integer AS id, e->>'name' AS name, e->>'kind' AS kind,
                    e->'feature' AS feature
               FROM jsonb_array_elements(p_zones) AS e ORDER BY 1
    LOOP
        zone_id := z.id;
        IF EXISTS (SELECT 1 FROM zones_history h
                    WHERE h.zone_id = z.id AND h.valid_from = p_from
                      AND h.valid_to IS NOT DISTINCT FROM p_to
                      AND (h.name, h.kind, h.feature) = (z.name, z.kind, z.feature)) THEN
            result := 'unchanged';
        ELSE
            -- (in a live import, the versions the zones trigger just
            -- wrote from now are cut too, but they are not "replaced")
            PERFORM hazgate_zones_history_cut(z.id, p_from, p_to);
            result := CASE WHEN z.id = ANY (had) THEN 'replaced' ELSE 'added' END;
            INSERT INTO zones_history (zone_id, name, kind, feature, valid_from, valid_to,
                                       changed_by)
            VALUES (z.id, z.name, z.kind, z.feature, p_from, p_to, session_user);
        END IF;
        RETURN NEXT;
    END LOOP;

    IF p_replace THEN
        FOR z IN SELECT DISTINCT h.zone_id AS id FROM zones_history h
                  WHERE h.zone_id <> ALL (ids)
                    AND (p_to IS NULL OR h.valid_from < p_to)
                    AND (h.valid_to IS NULL OR h.valid_to > p_from)
                  ORDER BY 1
        LOOP
            PERFORM hazgate_zones_history_cut(z.id, p_from, p_to);
            zone_id := z.id;
            result := 'withdrawn';
            RETURN NEXT;
        END LOOP;
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_zones_import_period(jsonb, timestamptz, timestamptz, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_zones_import_period(jsonb, timestamptz, timestamptz, boolean)
    TO hazgate_admin;
