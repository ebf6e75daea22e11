/**
 * One load-generator process for the broker benchmark, driven over the IPC channel by
 * bench/benchmarks/broker.ts. Several of these run at once so the generator is never the bottleneck.
 */
import mqtt, { type MqttClient } from 'mqtt'

type Job =
  | { kind: 'publish'; url: string; agents: number[]; qos: 0 | 1; durationMs: number; ratePerClient: number; window: number }
  | { kind: 'subscribe'; url: string; qos: 0 | 1; durationMs: number; startAt: number }
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
      const topic = `vpp/v1/${COMMUNITY}/agents/${agentId(job.agents[k]!)}/telemetry`
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

async function subscribe(job: Extract<Job, { kind: 'subscribe' }>) {
  const client = await connect(job.url, 'market')
  let received = 0
  const latencies: number[] = []
  let open = false
  client.on('message', (_topic, payload) => {
    if (!open) return
    received++
    const seq = Number(/"seq":(\d+)/.exec(payload.toString('latin1', 0, 40))?.[1])
    latencies.push((nowMicros() - seq) / 1000)
  })
  await client.subscribeAsync(`vpp/v1/${COMMUNITY}/agents/+/telemetry`, { qos: job.qos })
  process.send!({ ready: true })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  open = true
  const started = Date.now()
  await new Promise((r) => setTimeout(r, job.durationMs))
  open = false
  const elapsed = Date.now() - started
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! : null)
  process.send!({ received, elapsedMs: elapsed, p50: pct(0.5), p99: pct(0.99) })
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

process.once('message', (job: Job) => {
  const run = job.kind === 'publish' ? publish(job) : job.kind === 'subscribe' ? subscribe(job) : hold(job)
  run.then(() => process.exit(0), (error) => {
    process.send!({ error: String(error) })
    process.exit(1)
  })
})
