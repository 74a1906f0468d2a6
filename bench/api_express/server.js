// The peer of eddy's Leaves API in bench/api.sh: the workshop's Node.js API (Express and the
// DataStax cassandra-driver, as Anant/Cassandra.Api leaves.api.node/src/Routes/router.js), reading
// and writing demo.leaves on eddy's CQL port. GET /api/leaves/:id runs the prepared
// SELECT ... WHERE id = ?; POST /api/leaves builds the leaf with processor.js's defaults (without
// the page scraping, which eddy also leaves to an asynchronous worker) and runs INSERT ... JSON.
// Usage: CQL_HOST=127.0.0.1 CQL_PORT=9042 PORT=8100 node server.js
'use strict';
const crypto = require('crypto');
const express = require('express');
const cassandra = require('cassandra-driver');

const client = new cassandra.Client({
  contactPoints: [process.env.CQL_HOST || '127.0.0.1'],
  protocolOptions: { port: Number(process.env.CQL_PORT || 9042) },
  localDataCenter: 'datacenter1',
  keyspace: 'demo',
});

const app = express();
app.use(express.json({ limit: '50mb' }));

app.get('/api/leaves/:id', async (req, res) => {
  try {
    const result = await client.execute('SELECT * FROM demo.leaves WHERE id=?;', [req.params.id], { prepare: true });
    if (result.rows.length === 0) return res.status(404).json({ message: 'Not Found' });
    return res.status(200).json(result.rows[0]);
  } catch (e) {
    return res.status(400).json({ message: e.message });
  }
});

app.post('/api/leaves', async (req, res) => {
  try {
    const { url } = req.body;
    const newLeaf = { url };
    newLeaf.id = crypto.createHash('md5').update(url).digest('hex');
    newLeaf.is_archived = 1;
    newLeaf.is_starred = 0;
    newLeaf.user_name = 'admin';
    newLeaf.user_email = 'rahul@example.com';
    newLeaf.user_id = 1;
    newLeaf.is_public = false;
    newLeaf.domain_name = url.match(/^https?:\/\/[^#?\/]+/)[0];
    newLeaf.created_at = Date.now();
    newLeaf.updated_at = Date.now();
    newLeaf.links = [`api/entries/${newLeaf.id}`];
    newLeaf.tags = [];
    newLeaf.slugs = newLeaf.tags;
    const all = [];
    for (const key in newLeaf) {
      if (Array.isArray(newLeaf[key])) all.push(...newLeaf[key]);
      else all.push(newLeaf[key].toString());
    }
    newLeaf.all = all;
    await client.execute('INSERT INTO demo.leaves JSON ?;', [JSON.stringify(newLeaf)], { prepare: true });
    return res.status(201).json(newLeaf);
  } catch (e) {
    return res.status(400).json({ message: e.message });
  }
});

client.connect().then(() => {
  const port = Number(process.env.PORT || 8100);
  app.listen(port, '127.0.0.1', () => console.log(`express listening on 127.0.0.1:${port}`));
}).catch((e) => {
  console.error(`cannot connect to CQL: ${e.message}`);
  process.exit(1);
});
