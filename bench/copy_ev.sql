-- bench/copy_ev.sql (psql -v ev_file=…): COPY of the same n rows into the
-- event table (the stamping trigger assigns position, version, recorded_at).
COPY ev (stream, type, payload) FROM :'ev_file';
