-- state_events becomes the fleet's event log: state changes plus notable events (attention
-- changes, scan sessions, operator actions with the key that asked).
ALTER TABLE state_events ADD COLUMN type TEXT NOT NULL DEFAULT 'state_changed';
ALTER TABLE state_events ADD COLUMN detail TEXT;
ALTER TABLE state_events ADD COLUMN actor TEXT;
CREATE INDEX state_events_type ON state_events(type, seq);
