-- Nobody can rewrite events through DML; a superuser who takes chronicle's
-- protection down is warned by its event triggers (SPEC §7).
SELECT chronicle.create_event_table('guarded_events');
SELECT position, version FROM chronicle.append('guarded_events', 's', 'created', '{"n": 1}');

-- The owner (here a superuser) cannot update, delete or truncate events.
UPDATE guarded_events SET payload = '{"n": 2}';
DELETE FROM guarded_events;
TRUNCATE guarded_events;

-- Disabling a protection trigger warns, naming the trigger and the way back.
ALTER TABLE guarded_events DISABLE TRIGGER chronicle_immutable;
ALTER TABLE guarded_events ENABLE TRIGGER chronicle_immutable;
-- Every trigger at once: three warnings.
ALTER TABLE guarded_events DISABLE TRIGGER ALL;
ALTER TABLE guarded_events ENABLE TRIGGER ALL;
-- An unrelated ALTER TABLE says nothing.
ALTER TABLE guarded_events ADD COLUMN note text;

-- Dropping one warns too.
DROP TRIGGER chronicle_immutable_truncate ON guarded_events;

-- Dropping the whole table is not a warning: its history goes with it.
DROP TABLE guarded_events;

-- A partitioned event table: each partition is protected on its own.
SELECT chronicle.create_event_table('guarded_parts', partition_by => 'year');
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'guarded_parts'::regclass;
DELETE FROM guarded_parts_default;
ALTER TABLE guarded_parts_default DISABLE TRIGGER chronicle_immutable;
DROP TABLE guarded_parts;
