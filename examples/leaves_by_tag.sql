-- The workshop's streaming job (Spark's LeavesByTag), as an eddy pipeline.
--
-- Topic `leaves` is a changelog of leaves: key = the leaf's id, value = the leaf as JSON (its
-- complete new state; a null value deletes it). Each leaf becomes one row per tag in
-- demo.leaves_by_tag. Unlike Spark's append mode, a change retracts what the old value produced:
-- when a leaf loses a tag, its row under that tag goes away; when it is deleted, all its rows go.
-- Two leaves with the same tag and title share a row, which stays while either produces it.
--
-- Run it with `eddy up --pipeline examples/leaves_by_tag.sql`, or send it to a running eddy
-- with `eddy submit examples/leaves_by_tag.sql`.

CREATE STREAM leaf_changes (id text KEY, title text, url text, tags list<text>)
  WITH (topic = 'leaves', format = 'json', changelog = true);

CREATE KEYSPACE IF NOT EXISTS demo
  WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};

CREATE TABLE IF NOT EXISTS demo.leaves_by_tag
  (tag text, title text, url text, tags list<text>, PRIMARY KEY ((tag), title));

INSERT INTO demo.leaves_by_tag
  SELECT tag, title, url, tags
  FROM leaf_changes CROSS JOIN UNNEST(tags) AS t(tag);
