-- 020: alert ids in commit order.
--
-- Readers of alerts go by id: the board's stream (a client has every alert
-- up to the last id it got; Last-Event-ID resumes above it), the webhooks'
-- cursors, `GET /api/v1/alerts?since_id=`. That holds only if an alert
-- never commits after one with a higher id. One writer (one gateway, one
-- transaction at a time) keeps it; two (partitioned gateways, or anyone
-- else inserting alerts) did not: a sequence hands out ids when rows are
-- made, so the writer that took the lower id could commit second, and its
-- alert was skipped by every reader that had seen the higher one.
--
-- Now every statement that inserts into alerts first takes a transaction
-- advisory lock (key 'hza1', 0), before any of its rows takes an id, and
-- holds it to the end of its transaction: the next writer's ids are taken
-- after this one's commit. A gateway takes it in the last part of its
-- batch (after its positions; the statements after it need no lock another
-- writer holds while waiting for this one), one statement a batch with
-- alerts; the whole batch after the COPY goes to the server in one round
-- trip, so a writer never holds it while it waits for its own client.
CREATE FUNCTION hazgate_alerts_in_commit_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1752850737, 0);   -- 'hza1'
    RETURN NULL;
END
$$;

CREATE TRIGGER alerts_in_commit_order BEFORE INSERT ON alerts
    FOR EACH STATEMENT EXECUTE FUNCTION hazgate_alerts_in_commit_order();
