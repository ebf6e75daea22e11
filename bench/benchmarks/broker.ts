import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify as stringifyYaml } from 'yaml'
import { hashPassword } from '../../broker/credentials.ts'
import { freePort } from '../../platform/free-port.ts'
import type { Benchmark } from '../bench-result.ts'

const AGENTS = 10_000
const PHASE_MS = 5000
const MOSQUITTO = '/usr/sbin/mosquitto'
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

interface Target {
  name: string
  url: string
  pid: number
  stop(): Promise<void>
}

interface Measurement {
  qos0_msgs_per_s: number
  qos1_msgs_per_s: number
  p50_ms_at_5000_msg_s: number
  p99_ms_at_5000_msg_s: number
  delivered_at_5000_msg_s: number
  connections_established: number
  rss_mb_10000_connections: number
}

/**
 * The broker under load, beside Debian's mosquitto under the same load generator in the same run:
 * both with password authentication and topic ACLs, the load from several processes. Ours also
 * validates every telemetry payload, as in production.
 */
export const brokerBenchmark: Benchmark = {
  name: 'broker',
  description: `aedes broker (auth + ACL + payload checks) vs. mosquitto: QoS 0/1 throughput, latency at 5,000 msg/s, ${AGENTS} connections`,
  async run() {
    if (!existsSync(MOSQUITTO)) throw new Error('the broker benchmark compares with Debian mosquitto: apt-get install mosquitto')
    const dir = mkdtempSync(join(tmpdir(), 'vpp-bench-broker-'))
    try {
      console.log(`  preparing ${AGENTS} users for both brokers…`)
      const files = writeUserFiles(dir)
      const targets = [await startOurs(files.oursUsers), await startMosquitto(dir, files)] as const
      let ours: Measurement
      let mosquitto: Measurement
      try {
        const rates = await alternating(targets)
        ours = { ...rates[0]!, ...(await connections(targets[0])) }
        mosquitto = { ...rates[1]!, ...(await connections(targets[1])) }
      } finally {
        await Promise.all(targets.map((t) => t.stop()))
      }
      const round = (v: number) => Math.round(v * 1000) / 1000
      return {
        name: 'broker',
        metrics: {
          ...ours,
          qos0_ratio_vs_mosquitto: round(ours.qos0_msgs_per_s / mosquitto.qos0_msgs_per_s),
          qos1_ratio_vs_mosquitto: round(ours.qos1_msgs_per_s / mosquitto.qos1_msgs_per_s),
        },
        baseline: { name: 'mosquitto', ...mosquitto },
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

function writeUserFiles(dir: string) {
  const agents = Array.from({ length: AGENTS }, (_, i) => i)
  // A low scrypt cost for throwaway benchmark users; the verification path is the production one.
  const users = [
    ...agents.map((i) => ({ username: `a${i}`, passwordHash: hashPassword(`pw-${i}`, 1024), role: 'agent', community: 'street' })),
    { username: 'market', passwordHash: hashPassword('market-pw', 1024), role: 'market', community: 'street' },
  ]
  const oursUsers = join(dir, 'users.yaml')
  writeFileSync(oursUsers, stringifyYaml({ users }))
  const passwd = join(dir, 'mosquitto.passwd')
  writeFileSync(passwd, [...agents.map((i) => `a${i}:pw-${i}`), 'market:market-pw'].join('\n') + '\n')
  execFileSync('mosquitto_passwd', ['-U', passwd])
  const acl = join(dir, 'mosquitto.acl')
  // The same rules as broker/acl.ts, in mosquitto's words.
  writeFileSync(acl, ['pattern write vpp/v1/street/agents/%u/state', 'pattern write vpp/v1/street/agents/%u/telemetry', 'pattern write vpp/v1/street/agents/%u/orders', 'pattern write vpp/v1/street/agents/%u/meter', 'pattern read vpp/v1/street/agents/%u/awards', 'pattern read vpp/v1/street/market/#', 'user market', 'topic readwrite vpp/v1/street/#', ''].join('\n'))
  return { oursUsers, passwd, acl }
}

async function startOurs(usersFile: string): Promise<Target> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', here('../broker/broker-process.ts')], { env: { ...process.env, BENCH_USERS_FILE: usersFile, BENCH_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve())
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)))
  })
  return { name: 'openvpp', url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopProcess(child) }
}

async function startMosquitto(dir: string, files: { passwd: string; acl: string }): Promise<Target> {
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  // No limit on QoS 1 messages in flight to a subscriber, as in aedes: mosquitto's default of 20 holds
  // its QoS 1 delivery to 20 per round trip (about 30,000 msg/s here instead of 48,000), which would
  // flatter the ratio without saying anything about either broker's capacity.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${files.passwd}`, `acl_file ${files.acl}`, 'persistence false', 'max_queued_messages 100000', 'max_inflight_messages 0', 'log_type error', ''].join('\n'))
  // Started as root, mosquitto drops to its own user: it must be able to read these throwaway files.
  for (const path of [dir, conf, files.passwd, files.acl]) chmodSync(path, path === dir ? 0o755 : 0o644)
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  // Ready when it accepts a connection (probing by binding the port would race it for the port).
  for (let i = 0; i < 200 && !(await accepts(port)); i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited at start: ${stderr.trim()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { name: 'mosquitto', url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopProcess(child) }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

function worker(job: object): { ready: Promise<unknown>; go(): void; result: Promise<Record<string, number>>; child: ChildProcess } {
  const child = fork(here('../broker/load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const messages: ((m: Record<string, number>) => void)[] = []
  const queue: Record<string, number>[] = []
  child.on('message', (m: Record<string, number> & { error?: string }) => {
    if (m.error) throw new Error(`load worker: ${m.error}`)
    const waiter = messages.shift()
    if (waiter) waiter(m)
    else queue.push(m)
  })
  const next = () => new Promise<Record<string, number>>((resolve) => (queue.length ? resolve(queue.shift()!) : messages.push(resolve)))
  child.send(job)
  const ready = next()
  return { ready, go: () => child.send('go'), result: ready.then(next), child }
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024)

async function throughput(url: string, qos: 0 | 1): Promise<number> {
  const subscriber = worker({ kind: 'subscribe', url, qos, durationMs: PHASE_MS, startAt: 0, raw: true })
  await subscriber.ready
  const publishers = [0, 1, 2].map((w) => worker({ kind: 'publish', url, agents: [w * 2, w * 2 + 1], qos, durationMs: PHASE_MS, ratePerClient: 0, window: 200, raw: true }))
  await Promise.all(publishers.map((p) => p.ready))
  subscriber.go()
  publishers.forEach((p) => p.go())
  const [received] = await Promise.all([subscriber.result, ...publishers.map((p) => p.result)])
  return Math.round(received!.received! / (received!.elapsedMs! / 1000))
}

/**
 * The publishers run this long before the subscriber's window opens, so the latency is the broker's
 * at a steady 5,000 msg/s: the first second or so measures fresh load-generator processes (and new
 * connections) warming up. Seen on this VM with a cold broker: up to 1.1 s of latency in the first
 * 1.5 s, then a steady 1 ms p50 and ≤ 10 ms max per quarter second; a warm broker still showed
 * 20-80 ms in the first 0.75 s. 250 ms of warm-up put that ramp inside the window, where 1 % of
 * 25,000 messages is only 250 of them.
 */
const LATENCY_WARMUP_MS = 2000

async function latencyAt5000(url: string): Promise<{ p50: number; p99: number; delivered: number }> {
  const subscriber = worker({ kind: 'subscribe', url, qos: 1, durationMs: PHASE_MS, startAt: 0 })
  await subscriber.ready
  // 2 processes × 5 clients × 500 msg/s = 5,000 msg/s.
  const publishers = [0, 1].map((w) => worker({ kind: 'publish', url, agents: Array.from({ length: 5 }, (_, k) => 100 + w * 5 + k), qos: 1, durationMs: LATENCY_WARMUP_MS + PHASE_MS + 250, ratePerClient: 500, window: 1000 }))
  await Promise.all(publishers.map((p) => p.ready))
  publishers.forEach((p) => p.go())
  await new Promise((r) => setTimeout(r, LATENCY_WARMUP_MS))
  subscriber.go()
  const [result] = await Promise.all([subscriber.result, ...publishers.map((p) => p.result)])
  return { p50: result!.p50!, p99: result!.p99!, delivered: Math.round(result!.received! / (result!.elapsedMs! / 1000)) }
}

/** AGENTS connections held at once, with the broker's RSS. */
async function connections(target: Target): Promise<Pick<Measurement, 'connections_established' | 'rss_mb_10000_connections'>> {
  console.log(`  ${target.name}: ${AGENTS} connections…`)
  const per = AGENTS / 4
  const holders = [0, 1, 2, 3].map((w) => worker({ kind: 'connect', url: target.url, agents: Array.from({ length: per }, (_, k) => w * per + k) }))
  const counts = await Promise.all(holders.map((h) => h.ready))
  await new Promise((r) => setTimeout(r, 1000))
  const rss = rssMb(target.pid)
  holders.forEach((h) => h.go())
  await Promise.all(holders.map((h) => h.result))
  return { connections_established: counts.reduce<number>((n, c) => n + (c as Record<string, number>).connected!, 0), rss_mb_10000_connections: rss }
}

/**
 * How many times each throughput phase runs per broker and QoS, and each latency phase per broker;
 * the median is reported. Five throughput runs: with three, the ratio still moved between 0.68 and
 * 0.98 from one benchmark to the next on this VM.
 */
const THROUGHPUT_RUNS = 5
const LATENCY_RUNS = 3

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

/**
 * Throughput of every target at QoS 0 and 1, then latency at 5,000 msg/s, the targets taking turns
 * phase by phase, each phase several times (THROUGHPUT_RUNS, LATENCY_RUNS), every run printed: this
 * VM's speed drifts by tens of per cent over minutes, so measuring one broker after the other compared
 * them in different weather. Both run throughout; the idle one costs nothing.
 */
async function alternating(targets: readonly Target[]): Promise<Omit<Measurement, 'connections_established' | 'rss_mb_10000_connections'>[]> {
  const runs = targets.map(() => ({ qos0: [] as number[], qos1: [] as number[], p50: [] as number[], p99: [] as number[], delivered: [] as number[] }))
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    for (const qos of [0, 1] as const) {
      for (const [i, target] of targets.entries()) {
        const rate = await throughput(target.url, qos)
        console.log(`  ${target.name}: QoS ${qos} throughput (${run + 1}/${THROUGHPUT_RUNS}): ${rate} msg/s`)
        runs[i]![qos === 0 ? 'qos0' : 'qos1'].push(rate)
      }
    }
  }
  for (let run = 0; run < LATENCY_RUNS; run++) {
    for (const [i, target] of targets.entries()) {
      const latency = await latencyAt5000(target.url)
      console.log(`  ${target.name}: latency at 5,000 msg/s (${run + 1}/${LATENCY_RUNS}): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`)
      runs[i]!.p50.push(latency.p50)
      runs[i]!.p99.push(latency.p99)
      runs[i]!.delivered.push(latency.delivered)
    }
  }
  const round = (v: number) => Math.round(v * 100) / 100
  return runs.map((r) => ({
    qos0_msgs_per_s: median(r.qos0),
    qos1_msgs_per_s: median(r.qos1),
    p50_ms_at_5000_msg_s: round(median(r.p50)),
    p99_ms_at_5000_msg_s: round(median(r.p99)),
    delivered_at_5000_msg_s: median(r.delivered),
  }))
}
