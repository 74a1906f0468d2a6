// CQL with the Node.js cassandra-driver 4.x against `eddy up`: connecting with default options
// (it asks for DSE_V2, steps down to v4), schema metadata (getTable), prepared statements with
// routing, every type round-tripping, batches, paging over 10,000 rows with eachRow/autoPage and
// a saved pageState, conditional writes, and many concurrent requests.
'use strict'
const path = require('path')
const { Eddy, check, ok, notOk, finish } = require(path.join(__dirname, '..', 'lib', 'eddy_up.js'))
const cassandra = require(path.join(__dirname, '..', 'node_modules', 'cassandra-driver'))
const { types } = cassandra

async function main () {
  const e = await new Eddy().start()
  const [host, port] = [e.cql.slice(0, e.cql.lastIndexOf(':')), e.cql.slice(e.cql.lastIndexOf(':') + 1)]
  const warnings = []
  const client = new cassandra.Client({ contactPoints: [`${host}:${port}`], localDataCenter: 'datacenter1' })
  client.on('log', (level, cls, msg) => { if (level === 'warning' || level === 'error') warnings.push(`${cls}: ${msg}`) })
  try {
    await client.connect()
    check('node connects (protocol v4 after DSE_V2 is refused)', client.controlConnection.protocolVersion === 4,
      client.controlConnection.protocolVersion)
    check('no warnings while connecting', warnings.length === 0, warnings)
    const hosts = client.hosts.values()
    check('one host, in datacenter1', hosts.length === 1 && hosts[0].datacenter === 'datacenter1', hosts.map(h => h.address))

    await client.execute("CREATE KEYSPACE nd WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    await client.execute('CREATE TYPE nd.addr (street text, zip int)')
    await client.execute(`CREATE TABLE nd.all_types (k text PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean,
      d decimal, db double, f float, i int, ts timestamp, u uuid, tu timeuuid, v varint, ip inet, dt date, tm time,
      si smallint, ti tinyint, dur duration, l list<int>, s set<text>, m map<text, int>, fl frozen<list<text>>,
      tp tuple<int, text>, ad frozen<addr>)`)
    const t = await client.metadata.getTable('nd', 'all_types')
    check('getTable: columns and partition key', t && t.partitionKeys.map(c => c.name).join() === 'k' &&
      t.columns.length === 25, t && t.columns.map(c => c.name))
    const row = {
      k: 'r1',
      a: 'ascii',
      b: types.Long.fromString('-9007199254740993'),
      bl: Buffer.from([0, 1, 2, 255]),
      bo: true,
      d: types.BigDecimal.fromString('12345.6789'),
      db: 3.141592653589793,
      f: 1.5,
      i: -42,
      ts: new Date('2024-01-02T03:04:05.678Z'),
      u: types.Uuid.random(),
      tu: types.TimeUuid.now(),
      v: types.Integer.fromString('123456789012345678901234567890'),
      ip: types.InetAddress.fromString('192.168.1.10'),
      dt: types.LocalDate.fromString('2024-02-29'),
      tm: types.LocalTime.fromString('12:34:56.123456789'),
      si: 32000,
      ti: -7,
      dur: types.Duration.fromString('1mo2d3h4m5s'),
      l: [3, 1, 2],
      s: ['b', 'a'],
      m: { x: 1, y: 2 },
      fl: ['p', 'q'],
      tp: new types.Tuple(7, 'seven'),
      ad: { street: 'Main', zip: 12345 }
    }
    const cols = Object.keys(row)
    await client.execute(`INSERT INTO nd.all_types (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      cols.map(c => row[c]), { prepare: true })
    const back = (await client.execute('SELECT * FROM nd.all_types WHERE k = ?', ['r1'], { prepare: true })).first()
    const same = {
      b: back.b.toString() === row.b.toString(),
      bl: back.bl.equals(row.bl),
      d: back.d.toString() === '12345.6789',
      ts: back.ts.getTime() === row.ts.getTime(),
      u: back.u.toString() === row.u.toString(),
      tu: back.tu.toString() === row.tu.toString(),
      v: back.v.toString() === row.v.toString(),
      ip: back.ip.toString() === '192.168.1.10',
      dt: back.dt.toString() === '2024-02-29',
      tm: back.tm.toString() === '12:34:56.123456789',
      dur: back.dur.equals(row.dur),
      s: JSON.stringify(back.s) === '["a","b"]',
      m: JSON.stringify(back.m) === '{"x":1,"y":2}',
      tp: back.tp.get(0) === 7 && back.tp.get(1) === 'seven',
      ad: back.ad.street === 'Main' && back.ad.zip === 12345,
      rest: back.a === 'ascii' && back.bo === true && back.db === row.db && back.f === 1.5 && back.i === -42 &&
        back.si === 32000 && back.ti === -7 && JSON.stringify(back.l) === '[3,1,2]' && JSON.stringify(back.fl) === '["p","q"]'
    }
    check('every type round-trips through the node driver', Object.values(same).every(x => x), same)
    const nulls = (await client.execute("INSERT INTO nd.all_types (k) VALUES ('r2')"), await client.execute(
      "SELECT * FROM nd.all_types WHERE k = 'r2'")).first()
    check('unset columns read as null', cols.filter(c => c !== 'k').every(c => nulls[c] === null), nulls)

    // JSON
    await client.execute(`INSERT INTO nd.all_types JSON '{"k": "j", "i": "5", "bo": "False", "ts": "2014-01-01", "m": {"a": 1}}'`)
    const js = (await client.execute("SELECT JSON k, i, bo, ts, m FROM nd.all_types WHERE k = 'j'")).first()['[json]']
    check('INSERT JSON accepts strings for numbers and booleans; SELECT JSON formats timestamps',
      js === '{"k": "j", "i": 5, "bo": false, "ts": "2014-01-01 00:00:00.000Z", "m": {"a": 1}}', js)

    // paging
    await client.execute('CREATE TABLE nd.kv (k int PRIMARY KEY, v text)')
    const ins = 'INSERT INTO nd.kv (k, v) VALUES (?, ?)'
    const params = []
    for (let i = 0; i < 10000; i++) params.push([i, `v${i}`])
    await cassandra.concurrent.executeConcurrent(client, ins, params, { concurrencyLevel: 128, prepare: true })
    let n = 0
    await new Promise((resolve, reject) => {
      client.eachRow('SELECT k FROM nd.kv', [], { prepare: true, autoPage: true, fetchSize: 900 },
        () => { n++ }, err => err ? reject(err) : resolve())
    })
    check('eachRow with autoPage reads 10,000 rows', n === 10000, n)
    const p1 = await client.execute('SELECT k FROM nd.kv', [], { prepare: true, fetchSize: 100 })
    const p2 = await client.execute('SELECT k FROM nd.kv', [], { prepare: true, fetchSize: 100, pageState: p1.pageState })
    const all = []
    for await (const r of await client.execute('SELECT k FROM nd.kv', [], { prepare: true, fetchSize: 500 })) all.push(r.k)
    check('a pageState continues where the first page ended', p1.pageState && p2.rows[0].k === all[100] &&
      p2.rows.length === 100, [p1.pageState, p2.rows[0] && p2.rows[0].k, all[100]])

    // batches and conditional writes
    await client.batch([
      { query: 'INSERT INTO nd.kv (k, v) VALUES (?, ?)', params: [20001, 'a'] },
      { query: 'UPDATE nd.kv SET v = ? WHERE k = ?', params: ['b', 20002] }
    ], { prepare: true })
    const got = (await client.execute('SELECT k, v FROM nd.kv WHERE k IN (20001, 20002)')).rows.map(r => `${r.k}=${r.v}`)
    check('a prepared batch applies every statement', got.join() === '20001=a,20002=b', got)
    const c1 = (await client.execute("INSERT INTO nd.kv (k, v) VALUES (30000, 'x') IF NOT EXISTS")).wasApplied()
    const c2 = (await client.execute("INSERT INTO nd.kv (k, v) VALUES (30000, 'y') IF NOT EXISTS")).wasApplied()
    check('IF NOT EXISTS: applied, then not', c1 === true && c2 === false, [c1, c2])

    // many requests at once on one connection
    const reads = []
    for (let i = 0; i < 2000; i++) reads.push(client.execute('SELECT v FROM nd.kv WHERE k = ?', [i], { prepare: true }))
    const res = await Promise.all(reads)
    check('2,000 concurrent prepared reads all answered', res.every((r, i) => r.first().v === `v${i}`))

    try {
      await client.execute('SELECT * FROM nd.nope')
      notOk('an unknown table is a ResponseError 0x2200')
    } catch (err) {
      check('an unknown table is a ResponseError 0x2200', err.code === 0x2200, err)
    }
    ok('node driver session done')
  } catch (err) {
    notOk('node driver session', err && err.stack)
  } finally {
    await client.shutdown()
    const code = await e.stop()
    check('eddy up stops cleanly', code === 0, e.logText().slice(-2000))
    e.cleanup && e.cleanup()
  }
  finish()
}

main()
