-- 005_web_live: what hazgate-web's live feed needs (web/README.md, "The
-- live feed").
--
--   - hazgate_acks: every acknowledgement appended to alert_events is
--     announced with NOTIFY hazgate_acks, payload the event's id (the
--     stream reads the alert back: a note may be too long for a payload);
--   - webhook_cursors: per [webhook.NAME], the id of the last alert its
--     receiver answered 2xx to, so that a restart resumes after it.
--
-- Positions are announced by the gateway itself (NOTIFY hazgate_positions
-- in its batch transaction, gateway/gw_writer.c): nothing here.
--
-- hazgate_web is the board's group (its login's role). The server's own
-- migration creates it with its grants; this one creates it bare when it
-- is not there yet, so that the grants below always have a role to go to.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hazgate_web') THEN
    CREATE ROLE hazgate_web NOLOGIN;
  END IF;
END
$$;

CREATE FUNCTION hazgate_ack_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hazgate_acks', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER alert_events_ack_notify AFTER INSERT ON alert_events FOR EACH ROW
    WHEN (NEW.kind = 'ack') EXECUTE FUNCTION hazgate_ack_notify();

-- A hook's row is made when hazgate-web first starts with it, at the
-- newest alert then stored: a new receiver is not sent the whole history.
CREATE TABLE webhook_cursors (
    hook        text PRIMARY KEY CHECK (octet_length(hook) BETWEEN 1 AND 63),
    last_id     bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON webhook_cursors TO hazgate_web;
GRANT SELECT ON alerts, alert_events TO hazgate_web;
