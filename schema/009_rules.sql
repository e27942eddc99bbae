-- 009_rules: the rules beyond geometry (DESIGN.md "Rules beyond geometry").
--
--   - alerts.kind takes the new kinds: fatigue_driving,
--     daily_driving_exceeded, night_driving, unauthorized_stop,
--     terminal_alarm, terminal_alarm_cleared;
--   - zones.kind takes 'parking' (a place where a stop is authorised, as
--     in a depot);
--   - one fix can raise several terminal alarms (sos and collision at
--     once: same vehicle, ts, kind and no zone), so the alarm's name joins
--     the key that makes a redelivered alert one row.

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN
    ('zone_enter', 'zone_exit', 'prohibited_entry', 'zone_speeding',
     'overspeed', 'dwell_exceeded', 'route_deviation',
     'tracker_silent', 'tracker_resumed',
     'fatigue_driving', 'daily_driving_exceeded', 'night_driving',
     'unauthorized_stop', 'terminal_alarm', 'terminal_alarm_cleared'));

ALTER TABLE zones DROP CONSTRAINT zones_kind_check;
ALTER TABLE zones ADD CONSTRAINT zones_kind_check CHECK (kind IN
    ('event_venue', 'prohibited', 'restricted', 'corridor', 'depot', 'parking'));

ALTER TABLE alerts DROP CONSTRAINT alerts_vehicle_ts_kind_zone_id_key;
CREATE UNIQUE INDEX alerts_once ON alerts
    (vehicle, ts, kind, zone_id, (detail->>'alarm')) NULLS NOT DISTINCT;
