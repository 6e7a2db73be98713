-- bench/cdc/setup_mirror.sql: a DIAGNOSTIC variant, not a competitor. It
-- writes the same event rows chronicle writes, into a table with the same
-- columns, constraints and indexes as chronicle's items_events
-- (bench/cdc/setup_raw.sql), from a PL/pgSQL trigger: position from a
-- sequence, version = last + 1 by an index lookup, payload = the row image,
-- meta = user and application. What it leaves out is chronicle's own
-- machinery: the C capture and stamping triggers and the commit-time stamp
-- (commit lock, clock, order check). chronicle / mirror therefore separates
-- "writing an event row" from "what chronicle adds on top".
\ir setup_raw.sql
CREATE FUNCTION mirror_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  k text;
  img jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN k := OLD.id::text; img := to_jsonb(OLD);
  ELSE k := NEW.id::text; img := to_jsonb(NEW);
  END IF;
  INSERT INTO items_events (position, stream, version, type, payload, meta, valid_from, recorded_at, assigned)
  VALUES (nextval('items_events_position_seq'), k,
          coalesce((SELECT max(version) FROM items_events WHERE stream = k), 0) + 1,
          lower(TG_OP), img,
          jsonb_build_object('user', session_user, 'application', current_setting('application_name')),
          now(), now(),
          CASE WHEN TG_OP = 'UPDATE' THEN ARRAY['qty', 'updated_at'] END);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER items_mirror AFTER INSERT OR UPDATE OR DELETE ON items
  FOR EACH ROW EXECUTE FUNCTION mirror_capture();
