-- The workshop's batch job (Spark's Tags), as an eddy pipeline.
--
-- Scans demo.leaves (split into token ranges processed in parallel), explodes each leaf's tags
-- and counts leaves per tag into demo.tags. `eddy submit examples/tags.sql` shows a progress bar
-- until it finishes; a job stopped part way resumes with the ranges not yet done.

CREATE KEYSPACE IF NOT EXISTS demo
  WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};

CREATE TABLE IF NOT EXISTS demo.tags (tag text PRIMARY KEY, count int);

INSERT INTO demo.tags
  SELECT tag, count(*) AS count
  FROM demo.leaves CROSS JOIN UNNEST(tags) AS t(tag)
  GROUP BY tag;
