-- 006_alert_outbox: the alerts committed but not yet acknowledged by the
-- MQTT broker (issue 11: a committed alert is published until its PUBACK,
-- across broker outages, gateway restarts and crashes).
--
-- The gateway's alert statement inserts each new alert's row here in the
-- same statement (and so the same transaction) as the alert itself, with
-- the JSON it publishes; it deletes the row once the broker has
-- acknowledged the publish (PUBACK), batched into its next transaction.
-- At start and on every reconnect to the broker it publishes what is left,
-- in ascending id (so in order per vehicle). A crash between COMMIT and
-- PUBACK publishes the alert again: feeds get every alert at least once and
-- dedupe by id.
--
-- alert_id is not a foreign key: the check would cost a trigger call and an
-- index probe per alert on the gateway's hot path (measured here: about as
-- much again as the outbox row itself), and the row is only ever written by
-- the statement that inserts its alert. A row whose alert was deleted by
-- hand is still published.
CREATE TABLE alert_outbox (
    alert_id    bigint PRIMARY KEY,
    vehicle     text NOT NULL,          -- the topic's last level
    payload     text NOT NULL           -- the alert JSON as published
);

GRANT SELECT, INSERT, DELETE ON alert_outbox TO hazgate_gateway;
GRANT SELECT ON alert_outbox TO hazgate_dispatcher, hazgate_admin;
