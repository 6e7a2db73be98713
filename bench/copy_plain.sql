-- bench/copy_plain.sql (psql -v plain_file=…): baseline COPY of the n rows.
COPY plain_events (stream, version, type, payload) FROM :'plain_file';
