// KafkaJS 2.2.4 against eddy up: producer (every codec it can read, with kafkajs-snappy,
// kafkajs-lz4 and a zstd decoder on fzstd registered), a consumer group of several members
// (eachMessage and eachBatch, commits) and the admin client (createTopics, fetchTopicOffsets,
// describeGroups, deleteTopics).
'use strict'
const path = require('path')
const { execFileSync } = require('child_process')
const { Eddy, check, notOk, waitFor, sleep, finish } = require(path.join(__dirname, '..', 'lib', 'eddy_up.js'))
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')
const fzstd = require('fzstd')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
// KafkaJS only needs to read zstd here (kcat writes it); @kafkajs/zstd's native build fails on
// Node 20, fzstd is a pure-JS decoder.
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  async compress () { throw new Error('zstd compression is not registered') },
  async decompress (buf) { return Buffer.from(fzstd.decompress(buf)) }
})

async function main () {
  const e = new Eddy('--default-partitions', '1')
  try {
    await e.start()
    const kafka = new Kafka({ clientId: 'eddy-test', brokers: [e.kafka], logLevel: logLevel.NOTHING, retry: { retries: 8 } })
    const admin = kafka.admin()
    await admin.connect()
    const created = await admin.createTopics({ topics: [{ topic: 'js-topic', numPartitions: 4 }], waitForLeaders: true })
    check('admin.createTopics creates a topic', created === true)
    check('admin.listTopics sees it', (await admin.listTopics()).includes('js-topic'))

    const producer = kafka.producer()
    await producer.connect()
    const messages = []
    for (let i = 0; i < 200; i++) messages.push({ key: `k${i % 20}`, value: `v${i}`, partition: i % 4, headers: { n: String(i) } })
    await producer.send({ topic: 'js-gzip', compression: CompressionTypes.GZIP, messages: [{ value: 'gz-1' }, { value: 'gz-2' }] })

    // A group of three members: eachMessage on two, eachBatch on the third.
    const seen = new Map()
    const members = []
    for (let m = 0; m < 3; m++) {
      const consumer = kafka.consumer({ groupId: 'js-group', sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10000, maxWaitTimeInMs: 200 })
      await consumer.connect()
      await consumer.subscribe({ topic: 'js-topic', fromBeginning: true })
      const record = (partition, message) => seen.set(`${partition}:${message.offset}`, { member: m, value: message.value.toString() })
      if (m < 2) {
        await consumer.run({ autoCommitInterval: 100, eachMessage: async ({ partition, message }) => record(partition, message) })
      } else {
        await consumer.run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
            for (const message of batch.messages) { record(batch.partition, message); resolveOffset(message.offset) }
            await heartbeat()
            await commitOffsetsIfNecessary()
          }
        })
      }
      members.push(consumer)
    }
    // Once the three have settled into one stable generation, produce: every member gets a share.
    const settled = await waitFor(async () => {
      const d = (await admin.describeGroups(['js-group'])).groups[0]
      return d.state === 'Stable' && d.members.length === 3 && d.members.every(m => m.memberAssignment.length > 0)
    }, 90)
    check('three members settle into a stable group', !!settled)
    await sleep(500)
    const res = await producer.send({ topic: 'js-topic', acks: -1, messages })
    check('producer.send acks=-1 is acknowledged per partition', res.length === 4 && res.every(r => r.errorCode === 0), res)
    const offsets = await admin.fetchTopicOffsets('js-topic')
    check('admin.fetchTopicOffsets gives the high watermarks', offsets.length === 4 && offsets.every(o => o.high === '50' && o.low === '0'), offsets)
    await waitFor(() => seen.size >= 200, 90)
    check('three members consume all 200 records', seen.size === 200, seen.size)
    const byMember = new Set([...seen.values()].map(v => v.member))
    check('every member consumed its share', byMember.size === 3, [...byMember])

    const described = await admin.describeGroups(['js-group'])
    const g = described.groups[0]
    check('admin.describeGroups shows a stable group of three', g.state === 'Stable' && g.members.length === 3 && g.protocolType === 'consumer', { state: g.state, members: g.members.length })

    // Commits: wait until every partition's committed offset is 50.
    const committed = await waitFor(async () => {
      const o = await admin.fetchOffsets({ groupId: 'js-group', topics: ['js-topic'] })
      return o[0].partitions.every(p => p.offset === '50') && o
    }, 30)
    check('the group committed every partition to the end', !!committed, committed)
    for (const c of members) await c.disconnect()

    // Records kcat wrote with each codec, read by KafkaJS.
    for (const codec of ['snappy', 'lz4', 'zstd']) {
      execFileSync('kcat', ['-b', e.kafka, '-P', '-t', `js-${codec}`, '-z', codec, '-X', 'acks=all'], { input: 'a\nb\nc\n' })
    }
    for (const topic of ['js-gzip', 'js-snappy', 'js-lz4', 'js-zstd']) {
      const values = []
      const consumer = kafka.consumer({ groupId: `read-${topic}`, sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 200 })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({ eachMessage: async ({ message }) => { values.push(message.value.toString()) } })
      const want = topic === 'js-gzip' ? 2 : 3
      await waitFor(() => values.length >= want, 60)
      await consumer.disconnect()
      check(`KafkaJS reads ${topic.slice(3)} batches`, values.length === want, values)
    }

    await admin.deleteTopics({ topics: ['js-topic'] })
    await sleep(200)
    check('admin.deleteTopics removes the topic', !(await admin.listTopics()).includes('js-topic'))
    await producer.disconnect()
    await admin.disconnect()
    check('eddy stops cleanly', (await e.stop()) === 0, e.logText().slice(-2000))
  } catch (err) {
    notOk('KafkaJS session', (err && err.stack) || String(err))
    console.log(e.logText().split('\n').slice(-30).map(l => '# ' + l).join('\n'))
  } finally {
    e.cleanup()
  }
  finish()
}

main()
