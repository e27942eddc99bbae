-- 013_retention: positions past the retention horizon are archived and
-- dropped a whole UTC day at a time (`hazgate-ctl retention run`, issue 15).
--
-- Retention touches positions only: alerts, alert_events, rejects and the
-- rest are kept (the rules ask for violation records to be kept three
-- years; nothing here deletes them).
--
-- THE CONTRACT between retention and the positions layout is two functions.
-- Retention never names a partition, and reads a day for its archive only
-- through `SELECT ... FROM positions WHERE ts >= d AND ts < d + 1`:
--
--   hazgate_positions_days() RETURNS SETOF date
--       Every UTC day d for which positions may hold rows with
--       d <= ts < d + 1 (it may also name days that hold none, such as an
--       empty partition), ascending.
--
--   hazgate_drop_positions_day(d date, expected bigint DEFAULT NULL)
--       RETURNS bigint
--       Removes every position of UTC day d, in one transaction, and
--       returns how many it removed. With `expected` given, it first locks
--       the day against new rows and counts them: when the day holds any
--       other number of rows (a late fix arrived after the archive was
--       written) it removes nothing and raises SQLSTATE HG409. A day that
--       is today's or later (UTC) is refused (SQLSTATE HG400): retention
--       never drops the day being written. It may wait for locks (the row
--       layout's DROP of a partition locks positions for a moment): the
--       caller bounds that with lock_timeout and tries again on 55P03
--       (lock timeout) or 40P01 (deadlock with a concurrent late insert).
--
-- This migration creates them only where no earlier migration did (it
-- never replaces a layout's own definition), for the layout it finds: the
-- row layout (positions partitioned by day, one partition
-- positions_YYYYMMDD per day, late rows in positions_default), or the two
-- tiers of migration 012 (positions_recent and positions_slices, each
-- partitioned by day, late rows in positions_recent_default). Any other
-- layout must define them first; this migration then stops with a
-- message saying so.
--
-- archives: one row per archive file written before a drop. A day may have
-- several parts: part 1 is the day as it was at its first drop; a fix for
-- that day that arrives after it (a backfill days late lands in
-- positions_default) is archived and dropped later as part 2, 3, ...
-- `rows` is the number of positions in the file, `bytes` and `sha256`
-- those of the file as written (hex), `path` where it was written.

CREATE TABLE archives (
    day          date NOT NULL,
    part         integer NOT NULL CHECK (part >= 1),
    path         text NOT NULL,
    rows         bigint NOT NULL CHECK (rows >= 0),
    bytes        bigint NOT NULL CHECK (bytes >= 0),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    archived_at  timestamptz NOT NULL DEFAULT now(),
    archived_by  text NOT NULL DEFAULT session_user,
    PRIMARY KEY (day, part)
);

-- What every layout's hazgate_drop_positions_day checks: a past day
-- (before the count, held NULL), then the rows held against the rows
-- expected (NULL: no check).
CREATE FUNCTION hazgate_retention_check(d date, held bigint, expected bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF d IS NULL OR d >= (now() AT TIME ZONE 'UTC')::date THEN
        RAISE EXCEPTION 'hazgate_drop_positions_day: % is today or later (UTC); '
                        'only past days are dropped', d
              USING ERRCODE = 'HG400';
    END IF;
    IF held IS NOT NULL AND expected IS NOT NULL AND held <> expected THEN
        RAISE EXCEPTION 'hazgate_drop_positions_day: % holds % positions, not the % '
                        'archived; nothing dropped', d, held, expected
              USING ERRCODE = 'HG409';
    END IF;
END
$$;

DO $do$
BEGIN
    IF to_regprocedure('hazgate_positions_days()') IS NOT NULL
       AND to_regprocedure('hazgate_drop_positions_day(date, bigint)') IS NOT NULL THEN
        RETURN;     -- an earlier migration defined the contract for its layout
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = 'positions'::regclass) = 'p' THEN
        -- The row layout: positions partitioned by day; hazgate_ensure_partitions
        -- names each day's partition positions_YYYYMMDD after its UTC day.
        CREATE FUNCTION hazgate_positions_days() RETURNS SETOF date
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        BEGIN
            RETURN QUERY
                SELECT to_date(substr(c.relname, 11), 'YYYYMMDD')
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'positions'::regclass
                   AND c.relname ~ '^positions_[0-9]{8}$'
                UNION
                SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM positions_default
                ORDER BY 1;
        END
        $f$;

        CREATE FUNCTION hazgate_drop_positions_day(d date, expected bigint DEFAULT NULL)
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        DECLARE
            part text := format('positions_%s', to_char(d, 'YYYYMMDD'));
            lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
            hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
            n bigint;
        BEGIN
            PERFORM hazgate_retention_check(d, NULL, NULL);
            -- No new row for the day between the count and the drop. A new
            -- row of the day lands in the day's partition when it exists
            -- (the default partition then holds none of the day:
            -- hazgate_ensure_partitions moved them), else in the default
            -- partition: lock that one against inserts, nothing else. The
            -- DROP then takes ACCESS EXCLUSIVE on positions itself for a
            -- moment (PostgreSQL's rule for dropping a partition): the
            -- caller sets lock_timeout and tries again later.
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('LOCK TABLE %I IN SHARE MODE', part);
                EXECUTE format('SELECT count(*) FROM %I', part) INTO n;
            ELSE
                LOCK TABLE positions_default IN EXCLUSIVE MODE;
                SELECT count(*) INTO n FROM positions_default WHERE ts >= lo AND ts < hi;
            END IF;
            PERFORM hazgate_retention_check(d, n, expected);
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('DROP TABLE %I', part);
            ELSE
                DELETE FROM positions_default WHERE ts >= lo AND ts < hi;
            END IF;
            RETURN n;
        END
        $f$;
    ELSIF to_regclass('positions_slices') IS NOT NULL
          AND to_regclass('positions_recent_default') IS NOT NULL THEN
        -- Migration 012's two tiers: positions_recent (rows, partitions
        -- positions_recent_YYYYMMDD, late fixes in positions_recent_default)
        -- and positions_slices (partitions positions_slices_YYYYMMDD).
        CREATE FUNCTION hazgate_positions_days() RETURNS SETOF date
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        BEGIN
            RETURN QUERY
                SELECT to_date(right(c.relname, 8), 'YYYYMMDD')
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE (i.inhparent = 'positions_recent'::regclass
                        AND c.relname ~ '^positions_recent_[0-9]{8}$')
                    OR (i.inhparent = 'positions_slices'::regclass
                        AND c.relname ~ '^positions_slices_[0-9]{8}$')
                UNION
                SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM positions_recent_default
                ORDER BY 1;
        END
        $f$;

        CREATE FUNCTION hazgate_drop_positions_day(d date, expected bigint DEFAULT NULL)
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        DECLARE
            rpart text := format('positions_recent_%s', to_char(d, 'YYYYMMDD'));
            spart text := format('positions_slices_%s', to_char(d, 'YYYYMMDD'));
            lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
            hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
            total bigint := 0;
            m bigint;
        BEGIN
            PERFORM hazgate_retention_check(d, NULL, NULL);
            -- Not while hazgate_positions_compact moves a day (its lock);
            -- then no new row for the day until the drop: its row
            -- partition, its slices and the default partition locked
            -- against writes. A slice row's n is its number of fixes.
            PERFORM pg_advisory_xact_lock(hashtext('hazgate_positions_compact'));
            IF to_regclass(rpart) IS NOT NULL THEN
                EXECUTE format('LOCK TABLE %I IN SHARE MODE', rpart);
                EXECUTE format('SELECT count(*) FROM %I', rpart) INTO m;
                total := total + m;
            END IF;
            IF to_regclass(spart) IS NOT NULL THEN
                EXECUTE format('LOCK TABLE %I IN SHARE MODE', spart);
                EXECUTE format('SELECT coalesce(sum(n), 0) FROM %I', spart) INTO m;
                total := total + m;
            END IF;
            LOCK TABLE positions_recent_default IN EXCLUSIVE MODE;
            SELECT count(*) INTO m FROM positions_recent_default WHERE ts >= lo AND ts < hi;
            total := total + m;
            PERFORM hazgate_retention_check(d, total, expected);
            IF to_regclass(rpart) IS NOT NULL THEN
                EXECUTE format('DROP TABLE %I', rpart);
            END IF;
            IF to_regclass(spart) IS NOT NULL THEN
                EXECUTE format('DROP TABLE %I', spart);
            END IF;
            DELETE FROM positions_recent_default WHERE ts >= lo AND ts < hi;
            RETURN total;
        END
        $f$;
    ELSE
        RAISE EXCEPTION '013_retention: positions has a layout this migration does not know; '
                        'define hazgate_positions_days() and '
                        'hazgate_drop_positions_day(date, bigint) for it first';
    END IF;
END
$do$;

REVOKE EXECUTE ON FUNCTION hazgate_retention_check(date, bigint, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hazgate_positions_days() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hazgate_drop_positions_day(date, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_days() TO hazgate_admin, hazgate_dispatcher;
-- Dropping and archiving is the admin's (a login in hazgate_admin runs
-- `hazgate-ctl retention run`); never the gateway's, never a dispatcher's.
GRANT EXECUTE ON FUNCTION hazgate_drop_positions_day(date, bigint) TO hazgate_admin;
GRANT SELECT, INSERT ON archives TO hazgate_admin;
GRANT SELECT ON archives TO hazgate_dispatcher;
