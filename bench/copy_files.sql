-- bench/copy_files.sql (psql -v n=… -v plain_file=… -v ev_file=…): writes
-- the COPY input files once: the same n rows as the batch series; the
-- baseline's file also carries version = i (the event table's has none:
-- chronicle assigns it).
COPY (SELECT 'cart-' || (i % 1000), i, 'ItemAdded', jsonb_build_object('i', i)
      FROM generate_series(1, :n) i) TO :'plain_file';
COPY (SELECT 'cart-' || (i % 1000), 'ItemAdded', jsonb_build_object('i', i)
      FROM generate_series(1, :n) i) TO :'ev_file';
