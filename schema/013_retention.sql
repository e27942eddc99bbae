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
-- A positions layout other than today's rows partitioned by day (the
-- compact slices of migration 012) defines both with the same contract;
-- this migration creates them only where no earlier migration did, so it
-- never replaces such a definition. Below: the row layout's (one partition
-- positions_YYYYMMDD per day, late rows in positions_default).
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

DO $do$
BEGIN
    IF to_regprocedure('hazgate_positions_days()') IS NULL THEN
        CREATE FUNCTION hazgate_positions_days() RETURNS SETOF date
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        BEGIN
            -- hazgate_ensure_partitions names each day's partition
            -- positions_YYYYMMDD after its UTC day.
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
    END IF;

    IF to_regprocedure('hazgate_drop_positions_day(date, bigint)') IS NULL THEN
        CREATE FUNCTION hazgate_drop_positions_day(d date, expected bigint DEFAULT NULL)
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
        DECLARE
            part text := format('positions_%s', to_char(d, 'YYYYMMDD'));
            lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
            hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
            n bigint;
        BEGIN
            IF d IS NULL OR d >= (now() AT TIME ZONE 'UTC')::date THEN
                RAISE EXCEPTION 'hazgate_drop_positions_day: % is today or later (UTC); '
                                'only past days are dropped', d
                      USING ERRCODE = 'HG400';
            END IF;
            -- No new row for the day between the count and the drop. A
            -- new row of the day lands in the day's partition when it
            -- exists (the default partition then holds none of the day:
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
            IF expected IS NOT NULL AND n <> expected THEN
                RAISE EXCEPTION 'hazgate_drop_positions_day: % holds % positions, not the % '
                                'archived; nothing dropped', d, n, expected
                      USING ERRCODE = 'HG409';
            END IF;
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('DROP TABLE %I', part);
            ELSE
                DELETE FROM positions_default WHERE ts >= lo AND ts < hi;
            END IF;
            RETURN n;
        END
        $f$;
    END IF;
END
$do$;

REVOKE EXECUTE ON FUNCTION hazgate_positions_days() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hazgate_drop_positions_day(date, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_positions_days() TO hazgate_admin, hazgate_dispatcher;
-- Dropping and archiving is the admin's (a login in hazgate_admin runs
-- `hazgate-ctl retention run`); never the gateway's, never a dispatcher's.
GRANT EXECUTE ON FUNCTION hazgate_drop_positions_day(date, bigint) TO hazgate_admin;
GRANT SELECT, INSERT ON archives TO hazgate_admin;
GRANT SELECT ON archives TO hazgate_dispatcher;
