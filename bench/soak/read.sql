-- read(): up to 100 events from 500 before the newest
SELECT count(*) FROM chronicle.read('ev', greatest((SELECT max(position) FROM ev) - 500, 0), 100);
