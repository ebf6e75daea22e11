import { fork, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { hashPassword } from './broker/credentials.ts'
import { freePort } from './platform/free-port.ts'
const dir = mkdtempSync(join(tmpdir(), 'prof-broker-'))
const users = [...Array.from({ length: 10 }, (_, i) => ({ username: `a${i}`, passwordHash: hashPassword(`pw-${i}`, 1024), role: 'agent', community: 'street' })), { username: 'market', passwordHash: hashPassword('market-pw', 1024), role: 'market', community: 'street' }]
writeFileSync(join(dir, 'users.yaml'), stringify({ users }))
const port = await freePort()
const prof = process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof/bcpu'] : []
const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'bench/broker/broker-process.ts'], { env: { ...process.env, BENCH_USERS_FILE: join(dir, 'users.yaml'), BENCH_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise<void>((r) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && r()))
const url = `mqtt://127.0.0.1:${port}`
function worker(job: object) {
  const c = fork('bench/broker/load-worker.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const q: any[] = []; const w: any[] = []
  c.on('message', (m) => { const f = w.shift(); f ? f(m) : q.push(m) })
  const next = () => new Promise<any>((r) => (q.length ? r(q.shift()) : w.push(r)))
  c.send(job); const ready = next()
  return { ready, go: () => c.send('go'), result: ready.then(next) }
}
const qos = Number(process.env.QOS ?? 0)
const sub = worker({ kind: 'subscribe', url, qos, durationMs: 5000, startAt: 0 }); await sub.ready
const pubs = [0, 1, 2].map((w) => worker({ kind: 'publish', url, agents: [w * 2, w * 2 + 1], qos, durationMs: 5000, ratePerClient: 0, window: 200 }))
await Promise.all(pubs.map((p) => p.ready)); sub.go(); pubs.forEach((p) => p.go())
const [r] = await Promise.all([sub.result, ...pubs.map((p) => p.result)])
console.log('qos', qos, 'msgs/s', Math.round(r.received / (r.elapsedMs / 1000)))
child.kill('SIGTERM'); await new Promise((res) => child.once('exit', res))
