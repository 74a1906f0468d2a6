// Node.js helpers for integration tests: an `eddy up` on port-0 listeners and a temp data dir,
// and TAP-style results (the same contract as tests/lib/eddy.sh).
'use strict'
const { spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.resolve(__dirname, '..', '..')
const EDDY_BIN = process.env.EDDY_BIN || path.join(ROOT, 'build', 'asan', 'eddy')
let failures = 0

function ok (name) { console.log(`ok - ${name}`) }
function notOk (name, why) {
  failures++
  console.log(`not ok - ${name}`)
  if (why !== undefined) String(typeof why === 'string' ? why : JSON.stringify(why)).split('\n').slice(0, 20).forEach(l => console.log(`#   ${l}`))
}
function check (name, cond, why) { cond ? ok(name) : notOk(name, why); return cond }
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
async function waitFor (fn, seconds = 60) {
  const end = Date.now() + seconds * 1000
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() >= end) return null
    await sleep(100)
  }
}

class Eddy {
  constructor (...flags) {
    this.flags = flags
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eddy-it-'))
    this.data = path.join(this.tmp, 'data')
    this.logPath = path.join(this.tmp, 'eddy.log')
  }

  async start () {
    const log = fs.openSync(this.logPath, 'a')
    this.proc = spawn(EDDY_BIN, ['up', '--data', this.data, '--kafka-listen', '127.0.0.1:0',
      '--cql-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...this.flags],
    { stdio: ['ignore', 'ignore', log] })
    let exited = false
    this.proc.on('exit', () => { exited = true })
    const ready = await waitFor(() => exited || this.logText().includes('eddy: ready'), 60)
    if (!ready || exited) throw new Error('eddy up did not start:\n' + this.logText())
    const m = this.logText().match(/^eddy: kafka listening on (\S+)$/m)
    this.kafka = m && m[1]
    const c = this.logText().match(/^eddy: cql listening on (\S+)$/m)
    this.cql = c && c[1]
    return this
  }

  logText () { return fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, 'utf8') : '' }

  async stop () {
    if (!this.proc) return 0
    const p = this.proc
    this.proc = null
    const code = new Promise(resolve => p.on('exit', (c, sig) => resolve(sig ? -1 : c)))
    p.kill('SIGTERM')
    return code
  }

  cleanup () {
    if (this.proc) this.proc.kill('SIGKILL')
    fs.rmSync(this.tmp, { recursive: true, force: true })
  }
}

function finish () { process.exit(failures ? 1 : 0) }

module.exports = { Eddy, ok, notOk, check, sleep, waitFor, finish }
