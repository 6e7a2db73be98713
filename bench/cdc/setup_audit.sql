-- bench/cdc/setup_audit.sql: the classic PL/pgSQL audit trigger, one jsonb
-- row per change.
CREATE TABLE audit (
  id  bigserial PRIMARY KEY,
  op  text NOT NULL,
  old jsonb,
  new jsonb,
  at  timestamptz NOT NULL
);
CREATE FUNCTION audit_trigger() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- OLD is null in an INSERT trigger and NEW in a DELETE trigger.
  INSERT INTO audit (op, old, new, at) VALUES (TG_OP, to_jsonb(OLD), to_jsonb(NEW), now());
  RETURN NULL;
END
$fn$;
CREATE TRIGGER items_audit AFTER INSERT OR UPDATE OR DELETE ON items
  FOR EACH ROW EXECUTE FUNCTION audit_trigger();
