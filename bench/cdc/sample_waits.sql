-- bench/cdc/sample_waits.sql (psql -v app=… -v secs=…): samples the wait
-- events of the active backends whose application_name is :app every 5 ms
-- until they are gone (or :secs pass); prints how often each was seen.
-- "CPU" = active and not waiting.
CREATE TEMP TABLE waits (w text);
SELECT set_config('bench.app', :'app', false), set_config('bench.secs', :'secs', false) \gset
DO $do$
DECLARE
  seen boolean := false;
  n int;
  t0 timestamptz := clock_timestamp();
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO waits
      SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
      FROM pg_stat_activity
      WHERE application_name = current_setting('bench.app') AND state = 'active' AND pid <> pg_backend_pid();
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN seen := true; END IF;
    EXIT WHEN (seen AND n = 0 AND NOT EXISTS (
                 SELECT FROM pg_stat_activity WHERE application_name = current_setting('bench.app')))
           OR clock_timestamp() - t0 > make_interval(secs => current_setting('bench.secs')::float8);
    PERFORM pg_sleep(0.005);
  END LOOP;
END
$do$;
SELECT w AS wait_event, count(*) AS samples,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
FROM waits GROUP BY w ORDER BY count(*) DESC;
