-- The Leaves API's read side (CQRS): demo.leaves kept as a projection of topic `leaves`.
--
-- Every command of the Leaves API becomes an event on topic `leaves` (key = the leaf's id,
-- value = the leaf's complete new state as JSON, null = deleted). This pipeline keeps one row per
-- leaf; replaying the topic from the start rebuilds the table. Rows written straight through CQL
-- bypass the topic, so a replay does not bring them back.

CREATE STREAM leaf_events (
    id text KEY, is_archived int, all list<text>, is_starred int, user_name text, user_email text,
    user_id int, tags list<text>, slugs list<text>, is_public boolean, title text, url text,
    content_text text, created_at timestamp, updated_at timestamp, mimetype text, language text,
    reading_time int, domain_name text, preview_picture text, http_status text, links list<text>,
    content text)
  WITH (topic = 'leaves', format = 'json', changelog = true);

CREATE KEYSPACE IF NOT EXISTS demo
  WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};

CREATE TABLE IF NOT EXISTS demo.leaves (
    id text PRIMARY KEY, is_archived int, all list<text>, is_starred int, user_name text,
    user_email text, user_id int, tags list<text>, slugs list<text>, is_public boolean, title text,
    url text, content_text text, created_at timestamp, updated_at timestamp, mimetype text,
    language text, reading_time int, domain_name text, preview_picture text, http_status text,
    links list<text>, content text);

INSERT INTO demo.leaves SELECT * FROM leaf_events;
