-- 019_compact_c: a day's compaction split into its bookkeeping and its
-- encoding, so that hazgate-ctl can encode the slices itself (in C,
-- ctl/ctl_compact_enc.c) instead of PostgreSQL's window and aggregate passes
-- (issue 15: those cost about twice the whole ingest again in backend CPU).
--
--   hazgate_positions_compact_begin(day)   the locks of 012's
--       hazgate_positions_compact, the day's slices partition, the slices
--       the day's rows fall in decoded back into rows (late fixes, a second
--       run: a fix whose key a slice holds is dropped when its values are the
--       same, goes to rejects (duplicate_ts) when not; the slice's copy
--       stays), and the empty temporary table hg_compact_out (LIKE
--       positions_slices, dropped at COMMIT) that the caller may fill with
--       the new slices (COPY; its caller may insert into it). Returns how
--       many rows the merge added to the day's rows (the slices' fixes
--       decoded less the new fixes they replaced): the fixes moved are the
--       day's rows after begin less that.
--   hazgate_positions_compact_finish(day, fixes)  the slices of
--       hg_compact_out into positions_slices, the day's row partition dropped
--       and its rows in the default partition deleted. Returns the slices
--       inserted. With fixes given (the rows the caller read and encoded),
--       first checks that the day's rows and the new slices both hold that
--       many (a slice lost on the way fails the day, which stays in rows).
--
-- Between the two the caller reads the day's rows (positions_recent,
-- lo <= ts < hi: each (vehicle, hour) is then one slice, whole) and writes
-- one slice per vehicle and hour into hg_compact_out. Both run in the
-- caller's transaction, SECURITY DEFINER: the caller needs no right on the
-- tables (a login in hazgate_admin; the slices are written by finish, as
-- the owner, never directly). hazgate_positions_compact(day) is the same
-- two steps with the SQL encoder (hazgate_slices_build) between them.
--
-- The slices each path makes are the same (49-positions-compact compares
-- them); the C encoder is cheaper: schema/README.md, "Writing".

SET LOCAL TimeZone = 'UTC';

CREATE FUNCTION hazgate_positions_compact_begin(p_day date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    rpart text := format('positions_recent_%s', to_char(p_day, 'YYYYMMDD'));
    spart text := format('positions_slices_%s', to_char(p_day, 'YYYYMMDD'));
    sliced boolean;
    added bigint := 0;
    k bigint;
BEGIN
    IF p_day IS NULL THEN
        RAISE EXCEPTION 'hazgate_positions_compact_begin: no day';
    END IF;
    -- One compaction at a time (and no drop of a day meanwhile: 013); no
    -- insert into the day until COMMIT.
    PERFORM pg_advisory_xact_lock(hashtext('hazgate_positions_compact'));
    IF to_regclass(rpart) IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', rpart);
    END IF;
    LOCK TABLE positions_recent_default IN EXCLUSIVE MODE;
    IF to_regclass(spart) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF positions_slices FOR VALUES FROM (%L) TO (%L)',
                       spart, lo, hi);
        sliced := false;
    ELSE
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', spart) INTO sliced;
    END IF;
    IF sliced THEN
        -- The slices the day's rows fall in, decoded, back into rows (their
        -- copy of a key wins: the first stored).
        CREATE TEMP TABLE hg_compact_old ON COMMIT DROP AS
            WITH k AS (SELECT DISTINCT vehicle, date_trunc('hour', ts) AS hour
                         FROM positions_recent WHERE ts >= lo AND ts < hi),
                 old AS (DELETE FROM positions_slices s USING k
                          WHERE s.vehicle = k.vehicle AND s.hour = k.hour
                            AND s.hour >= lo AND s.hour < hi RETURNING s.*)
            SELECT f.* FROM old, LATERAL hazgate_slice_fixes(old) f;
        PERFORM hazgate_reject_duplicate(ROW(o.*)::positions, ROW(n.*)::positions)
           FROM positions_recent n JOIN hg_compact_old o ON o.vehicle = n.vehicle AND o.ts = n.ts
          WHERE n.ts >= lo AND n.ts < hi
            AND NOT hazgate_fix_same(ROW(o.*)::positions, ROW(n.*)::positions);
        DELETE FROM positions_recent n USING hg_compact_old o
         WHERE n.vehicle = o.vehicle AND n.ts = o.ts AND n.ts >= lo AND n.ts < hi;
        GET DIAGNOSTICS k = ROW_COUNT;
        INSERT INTO positions_recent SELECT * FROM hg_compact_old;
        GET DIAGNOSTICS added = ROW_COUNT;
        added := added - k;
        DROP TABLE hg_compact_old;
    END IF;
    -- Where the caller writes the day's new slices (its own session only).
    IF to_regclass('pg_temp.hg_compact_out') IS NOT NULL THEN
        DROP TABLE pg_temp.hg_compact_out;
    END IF;
    CREATE TEMP TABLE hg_compact_out (LIKE positions_slices INCLUDING COMPRESSION) ON COMMIT DROP;
    GRANT INSERT ON hg_compact_out TO PUBLIC;
    RETURN added;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_compact_begin(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_compact_begin(date) TO hazgate_admin;

CREATE FUNCTION hazgate_positions_compact_finish(p_day date, p_fixes bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    rpart text := format('positions_recent_%s', to_char(p_day, 'YYYYMMDD'));
    made bigint;
    held bigint;
    sliced bigint;
BEGIN
    -- begin's table (made as this function's owner: not one of that name
    -- the caller made, which would skip begin's locks and merge).
    IF NOT EXISTS (SELECT 1 FROM pg_class
                    WHERE oid = to_regclass('pg_temp.hg_compact_out')
                      AND relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)) THEN
        RAISE EXCEPTION 'hazgate_positions_compact_finish: no compaction of % under way '
                        '(hazgate_positions_compact_begin first, in the same transaction)', p_day;
    END IF;
    IF p_fixes IS NOT NULL THEN
        SELECT count(*) INTO held FROM positions_recent WHERE ts >= lo AND ts < hi;
        SELECT coalesce(sum(n), 0) INTO sliced FROM pg_temp.hg_compact_out;
        IF held <> p_fixes OR sliced <> p_fixes THEN
            RAISE EXCEPTION 'hazgate_positions_compact_finish: % holds % fixes in rows and % in '
                            'the new slices, not the % read; nothing changed',
                            p_day, held, sliced, p_fixes;
        END IF;
    END IF;
    -- Only slices of the day (a wrong hour would land in another day).
    IF EXISTS (SELECT 1 FROM pg_temp.hg_compact_out WHERE hour < lo OR hour >= hi) THEN
        RAISE EXCEPTION 'hazgate_positions_compact_finish: a slice outside %', p_day;
    END IF;
    INSERT INTO positions_slices SELECT * FROM pg_temp.hg_compact_out;
    GET DIAGNOSTICS made = ROW_COUNT;
    DROP TABLE pg_temp.hg_compact_out;
    IF to_regclass(rpart) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I', rpart);
    END IF;
    DELETE FROM positions_recent_default WHERE ts >= lo AND ts < hi;
    RETURN made;
END
$$;
REVOKE EXECUTE ON FUNCTION hazgate_positions_compact_finish(date, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_compact_finish(date, bigint) TO hazgate_admin;

-- 012's function, now the two steps above with the SQL encoder between
-- them (the same slices, the same locks, the same result: the fixes moved).
CREATE OR REPLACE FUNCTION hazgate_positions_compact(p_day date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC'
SET work_mem = '256MB' AS $$
DECLARE
    lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    added bigint;
    moved bigint;
BEGIN
    added := hazgate_positions_compact_begin(p_day);
    CREATE TEMP TABLE hg_slice_src ON COMMIT DROP AS
        SELECT * FROM positions_recent WHERE ts >= lo AND ts < hi;
    SELECT count(*) - added INTO moved FROM hg_slice_src;
    PERFORM hazgate_slices_build();
    DROP TABLE hg_slice_src;
    PERFORM hazgate_positions_compact_finish(p_day);
    RETURN moved;
END
$$;
