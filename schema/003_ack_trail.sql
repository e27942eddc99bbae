-- 003_ack_trail: an acknowledgement trail nobody can rewrite.
--
-- Before 003, hazgate_dispatcher had UPDATE on alerts' ack columns, so any
-- dispatcher login could rewrite or undo an acknowledgement, and the name in
-- acked_by was whatever the caller typed. From 003 on:
--   - an alert is acknowledged only through hazgate_ack(), a SECURITY
--     DEFINER function that records the login (session_user) and the time,
--     sets acked_at/acked_by/ack_note once, and appends an 'ack' event;
--   - notes are added only through hazgate_alert_note();
--   - alert_events is append-only: no hazgate role has INSERT, UPDATE,
--     DELETE or TRUNCATE on it, and a trigger refuses UPDATE, DELETE and
--     TRUNCATE even to its owner and superusers (maintenance means disabling
--     the trigger by name first: an explicit, visible act);
--   - alerts' ack columns, once set, never change again (a trigger, for the
--     owner too), and an alert cannot be inserted already acknowledged.

-- The trail of each alert. user in the board's JSON is
-- coalesce(board_user, login).
CREATE TABLE alert_events (
    id          bigserial PRIMARY KEY,
    -- An alert with a trail cannot be deleted (no ON DELETE).
    alert_id    bigint NOT NULL REFERENCES alerts (id),
    ts          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('ack', 'note')),
    -- The database login that acted (session_user). NULL only for the
    -- acknowledgements copied from alerts below, made before 003 kept it.
    login       text DEFAULT session_user,
    -- The board's user, when the board acted for one (hazgate-web, its own
    -- issue); NULL for hazgate-ctl and psql.
    board_user  text,
    note        text
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- Acknowledgements made before this migration: their 'ack' event, with the
-- name typed then in the note (as hazgate-ctl ack --by writes it from now on)
-- and no login (it was not recorded).
INSERT INTO alert_events (alert_id, ts, kind, login, note)
SELECT id, acked_at, 'ack', NULL,
       '[by ' || acked_by || ']' || coalesce(' ' || ack_note, '')
  FROM alerts WHERE acked_at IS NOT NULL ORDER BY acked_at, id;

CREATE FUNCTION hazgate_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'events are never changed or erased; add a note instead';
END
$$;
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION hazgate_append_only();
CREATE TRIGGER alert_events_no_truncate BEFORE TRUNCATE ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION hazgate_append_only();

-- alerts: acknowledged once, and for good.
CREATE FUNCTION hazgate_ack_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'an alert is acknowledged only through hazgate_ack()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'alert % was acknowledged at % by %: an acknowledgement is final',
        OLD.id, OLD.acked_at, OLD.acked_by
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER alerts_ack_on_insert BEFORE INSERT ON alerts FOR EACH ROW
    WHEN (NEW.acked_at IS NOT NULL OR NEW.acked_by IS NOT NULL OR NEW.ack_note IS NOT NULL)
    EXECUTE FUNCTION hazgate_ack_final();
CREATE TRIGGER alerts_ack_final BEFORE UPDATE ON alerts FOR EACH ROW
    WHEN (OLD.acked_at IS NOT NULL
          AND (NEW.acked_at, NEW.acked_by, NEW.ack_note)
              IS DISTINCT FROM (OLD.acked_at, OLD.acked_by, OLD.ack_note))
    EXECUTE FUNCTION hazgate_ack_final();

-- board_user may be given only by the board's login: a member of
-- hazgate_web (created by the board's own migration; until then, nobody).
-- Anyone else acts under their login alone.
CREATE FUNCTION hazgate_board_user_check(board_user text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
    IF board_user IS NULL THEN
        RETURN;
    END IF;
    IF board_user = '' OR length(board_user) > 200 THEN
        RAISE EXCEPTION 'board_user must be 1..200 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_web')
       OR NOT pg_has_role(session_user, 'hazgate_web', 'MEMBER') THEN
        RAISE EXCEPTION 'board_user is for the board''s login (a member of hazgate_web); % acts as itself',
            session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Acknowledges alert p_alert_id: acked_at = now(), acked_by = board_user
-- when the board gives one, else the login (session_user); ack_note =
-- p_note. Appends the 'ack' event and returns its id. Errors, by SQLSTATE:
-- HG404 no such alert; HG409 already acknowledged (the message says when
-- and by whom; nothing changes); 42501 board_user from a login outside
-- hazgate_web; 22023 a note over 2000 characters.
CREATE FUNCTION hazgate_ack(p_alert_id bigint, p_note text DEFAULT NULL,
                            p_board_user text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ev bigint;
    prev record;
BEGIN
    PERFORM hazgate_board_user_check(p_board_user);
    IF length(p_note) > 2000 THEN
        RAISE EXCEPTION 'the note is longer than 2000 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The row lock serialises two acknowledgements of one alert: the second
    -- waits, then finds it acknowledged.
    UPDATE alerts SET acked_at = now(), acked_by = coalesce(p_board_user, session_user),
                      ack_note = p_note
     WHERE id = p_alert_id AND acked_at IS NULL;
    IF NOT FOUND THEN
        SELECT acked_at, acked_by INTO prev FROM alerts WHERE id = p_alert_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no alert %', p_alert_id USING ERRCODE = 'HG404';
        END IF;
        RAISE EXCEPTION 'alert % was already acknowledged at % by %',
            p_alert_id, prev.acked_at, prev.acked_by USING ERRCODE = 'HG409';
    END IF;
    INSERT INTO alert_events (alert_id, kind, login, board_user, note)
    VALUES (p_alert_id, 'ack', session_user, p_board_user, p_note)
    RETURNING id INTO ev;
    RETURN ev;
END
$$;

-- Appends a 'note' event to alert p_alert_id (open or acknowledged) under
-- the login (and board_user, as for hazgate_ack). Returns its id. Errors:
-- HG404 no such alert; 22023 an empty note or one over 2000 characters;
-- 42501 as hazgate_ack.
CREATE FUNCTION hazgate_alert_note(p_alert_id bigint, p_note text,
                                   p_board_user text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ev bigint;
BEGIN
    PERFORM hazgate_board_user_check(p_board_user);
    IF p_note IS NULL OR p_note = '' OR length(p_note) > 2000 THEN
        RAISE EXCEPTION 'a note is 1..2000 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- FOR KEY SHARE: the alert exists until the event is committed.
    PERFORM 1 FROM alerts WHERE id = p_alert_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no alert %', p_alert_id USING ERRCODE = 'HG404';
    END IF;
    INSERT INTO alert_events (alert_id, kind, login, board_user, note)
    VALUES (p_alert_id, 'note', session_user, p_board_user, p_note)
    RETURNING id INTO ev;
    RETURN ev;
END
$$;

-- Grants. The column grant goes: acknowledging is hazgate_ack's alone.
REVOKE UPDATE (acked_at, acked_by, ack_note) ON alerts FROM hazgate_dispatcher;
REVOKE EXECUTE ON FUNCTION hazgate_ack(bigint, text, text),
                  hazgate_alert_note(bigint, text, text),
                  hazgate_board_user_check(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hazgate_ack(bigint, text, text),
                 hazgate_alert_note(bigint, text, text)
    TO hazgate_dispatcher, hazgate_admin;
GRANT SELECT ON alert_events TO hazgate_dispatcher, hazgate_admin;
