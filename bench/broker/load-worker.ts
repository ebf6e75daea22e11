/**
 * One load-generator process for the broker benchmark, driven over the IPC channel by
 * bench/benchmarks/broker.ts. Several of these run at once so the generator is never the bottleneck.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { connectRaw, publishPacket, subscribeRaw, type RawClient } from './raw-mqtt.ts'
import { topics } from '../../protocol/topics.ts'

type Job =
  | { kind: 'publish'; url: string; agents: number[]; qos: 0 | 1; durationMs: number; ratePerClient: number; window: number; raw?: boolean }
  | { kind: 'subscribe'; url: string; qos: 0 | 1; durationMs: number; startAt: number; raw?: boolean }
  | { kind: 'connect'; url: string; agents: number[] }

const COMMUNITY = 'street'
const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000)
const sample = JSON.stringify({
  device: { manufacturer: 'OpenVPP', model: 'Bench', serial: 'b', version: '1' },
  inverter_ac_w: 3120, pv_w: 3200, grid_w: -2500, battery_w: -300, battery_soc_pct: 54.2, load_w: 320,
  energy: { pv_total_wh: 1234567, grid_import_wh: 2345678, grid_export_wh: 345678 },
  models: [1, 103, 802, 203], ts: new Date().toISOString(),
})
const password = (i: number) => `pw-${i}`
const agentId = (i: number) => `a${i}`

function connect(url: string, i: number | 'market', keepalive = 60): Promise<MqttClient> {
  const id = i === 'market' ? `market:${process.pid}` : agentId(i)
  return mqtt.connectAsync(url, { clientId: id, username: i === 'market' ? 'market' : id, password: i === 'market' ? 'market-pw' : password(i), protocolVersion: 4, reconnectPeriod: 0, keepalive, connectTimeout: 120_000, clean: true })
}

async function publish(job: Extract<Job, { kind: 'publish' }>) {
  const clients = await Promise.all(job.agents.map((i) => connect(job.url, i)))
  process.send!({ ready: true })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  const end = Date.now() + job.durationMs
  let sent = 0
  await Promise.all(
    clients.map(async (client, k) => {
      const topic = topics.agent(COMMUNITY, agentId(job.agents[k]!), 'telemetry')
      const interval = job.ratePerClient > 0 ? 1000 / job.ratePerClient : 0
      let next = Date.now()
      let outstanding = 0
      while (Date.now() < end) {
        if (interval > 0) {
          next += interval
          const wait = next - Date.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
        while (outstanding >= job.window) await new Promise((r) => setImmediate(r))
        outstanding++
        // seq carries the send time in µs: the subscriber's latency clock, and a valid telemetry seq.
        client.publish(topic, `{"seq":${nowMicros()},"samples":[${sample}]}`, { qos: job.qos }, () => outstanding--)
        sent++
        if (interval === 0 && sent % 64 === 0) await new Promise((r) => setImmediate(r))
      }
    }),
  )
  process.send!({ sent })
  await Promise.all(clients.map((c) => c.endAsync(true)))
}

/** What a subscriber counts while its window is open: messages, and send-to-receive latencies in ms. */
interface Tally {
  open: boolean
  received: number
  latencies: number[]
}

/** Reports ready, opens the window on "go" for `durationMs`, then reports the count and latency percentiles. */
async function countWindow(tally: Tally, durationMs: number): Promise<void> {
  process.send!({ ready: true })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  tally.open = true
  const started = Date.now()
  await new Promise((r) => setTimeout(r, durationMs))
  tally.open = false
  const elapsed = Date.now() - started
  const latencies = tally.latencies.sort((a, b) => a - b)
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! : null)
  process.send!({ received: tally.received, elapsedMs: elapsed, p50: pct(0.5), p99: pct(0.99) })
}

async function subscribe(job: Extract<Job, { kind: 'subscribe' }>) {
  const client = await connect(job.url, 'market')
  const tally: Tally = { open: false, received: 0, latencies: [] }
  client.on('message', (_topic, payload) => {
    if (!tally.open) return
    tally.received++
    const seq = Number(/"seq":(\d+)/.exec(payload.toString('latin1', 0, 40))?.[1])
    tally.latencies.push((nowMicros() - seq) / 1000)
  })
  await client.subscribeAsync(topics.allAgents(COMMUNITY, 'telemetry'), { qos: job.qos })
  await countWindow(tally, job.durationMs)
  await client.endAsync(true)
}

async function hold(job: Extract<Job, { kind: 'connect' }>) {
  const clients: MqttClient[] = []
  // In slices, as thousands of homes coming back after an outage would.
  for (let at = 0; at < job.agents.length; at += 250) clients.push(...(await Promise.all(job.agents.slice(at, at + 250).map((i) => connect(job.url, i, 300)))))
  process.send!({ connected: clients.filter((c) => c.connected).length })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  await Promise.all(clients.map((c) => c.endAsync(true)))
  process.send!({ done: true })
}

/** Packets written per system call by the raw publisher. */
const BATCH = 32
const SEQ_DIGITS = 16

/**
 * As fast as the broker takes them, from pre-encoded packets: each client writes batches of PUBLISH
 * packets with the send time patched into `seq` (and, at QoS 1, a fresh packet id), keeping at most
 * `window` unacknowledged at QoS 1 and honouring the socket's backpressure at QoS 0.
 */
async function publishRaw(job: Extract<Job, { kind: 'publish' }>) {
  const clients = await Promise.all(job.agents.map((i) => connectRaw(job.url, agentId(i), agentId(i), password(i))))
  process.send!({ ready: true })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  const end = Date.now() + job.durationMs
  let sent = 0
  await Promise.all(
    clients.map(async (client: RawClient, k) => {
      const topic = topics.agent(COMMUNITY, agentId(job.agents[k]!), 'telemetry')
      const template = publishPacket(topic, Buffer.from(`{"seq":${'0'.repeat(SEQ_DIGITS)},"samples":[${sample}]}`), job.qos)
      const size = template.bytes.length
      const batch = Buffer.alloc(size * BATCH)
      for (let b = 0; b < BATCH; b++) template.bytes.copy(batch, b * size)
      let id = 0
      let mine = 0
      while (Date.now() < end) {
        if (job.qos === 1 && mine - client.acks + BATCH > job.window) {
          // Woken by the broker's next PUBACKs (and at the end of the run), not by polling, which
          // would take CPU from the broker under test.
          await new Promise<void>((resolve) => {
            client.onAcks = resolve
            setTimeout(resolve, Math.max(0, end - Date.now())).unref()
          })
          continue
        }
        const stamp = String(nowMicros()).padStart(SEQ_DIGITS, '0')
        for (let b = 0; b < BATCH; b++) {
          batch.write(stamp, b * size + template.payloadOffset + 7, 'latin1')
          if (job.qos === 1) {
            id = (id % 65_535) + 1
            batch.writeUInt16BE(id, b * size + template.idOffset)
          }
        }
        mine += BATCH
        sent += BATCH
        if (!client.socket.write(Buffer.from(batch))) await new Promise((r) => client.socket.once('drain', r))
        else await new Promise((r) => setImmediate(r))
      }
    }),
  )
  process.send!({ sent })
  clients.forEach((c) => c.socket.destroy())
}

async function subscribeRawJob(job: Extract<Job, { kind: 'subscribe' }>) {
  const client = await connectRaw(job.url, `market:${process.pid}`, 'market', 'market-pw')
  const tally: Tally = { open: false, received: 0, latencies: [] }
  client.onPublish = (payload) => {
    if (!tally.open) return
    tally.received++
    // Every 16th message is enough for the latency percentiles and keeps this process light.
    if ((tally.received & 15) === 0) tally.latencies.push((nowMicros() - Number(payload.toString('latin1', 7, 7 + SEQ_DIGITS))) / 1000)
  }
  await subscribeRaw(client, topics.allAgents(COMMUNITY, 'telemetry'), job.qos)
  await countWindow(tally, job.durationMs)
  client.socket.destroy()
}

process.once('message', (job: Job) => {
  const run =
    job.kind === 'publish' ? (job.raw ? publishRaw(job) : publish(job)) : job.kind === 'subscribe' ? (job.raw ? subscribeRawJob(job) : subscribe(job)) : hold(job)
  run.then(() => process.exit(0), (error) => {
    process.send!({ error: String(error) })
    process.exit(1)
  })
})
