import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { z } from 'zod'
import { startBroker } from '../broker/mqtt-broker.ts'
import { brokerConfigSchema } from '../broker/broker-config.ts'
import { readUsersFile, upsertUser } from '../broker/users-file.ts'
import { InfluxTelemetryStore } from '../telemetry/influx-telemetry-store.ts'
import { TelemetrySink } from '../telemetry/telemetry-sink.ts'
import { Counters } from '../platform/counters.ts'
import { loadConfigFile, validateConfig } from '../platform/config-file.ts'
import { createLogger } from '../platform/logger.ts'
import { topicIdSchema } from '../protocol/topic-id.ts'
import { parseOptions } from './parse-options.ts'
import { onStopSignal } from '../platform/stop-signal.ts'

const adduserSchema = z.object({
  users: z.string().min(1),
  community: topicIdSchema,
  agent: topicIdSchema,
  role: z.enum(['agent', 'market', 'dashboard']),
})

/**
 * `vpp broker adduser --users users.yaml --community C --agent A [--role agent|market|dashboard]`:
 * reads the password from stdin (asked for, unechoed, on a terminal) and stores its scrypt hash.
 */
export async function brokerAddUserCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(adduserSchema, raw)
  const password = process.stdin.isTTY ? await askHidden(`Password for ${options.agent}: `) : readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? ''
  const outcome = upsertUser(options.users, { username: options.agent, password, role: options.role, community: options.community })
  console.log(`${outcome} ${options.role} ${options.agent} in community ${options.community} (${options.users})`)
}

/** `vpp broker [--config broker.yaml] [--users users.yaml] [--port 1883] …`: runs the broker until Ctrl-C. */
export async function brokerRunCommand(raw: Record<string, unknown>): Promise<void> {
  const flags: Record<string, unknown> = {}
  if (raw.users !== undefined) flags.users = raw.users
  if (raw.host !== undefined) flags.host = raw.host
  if (raw.port !== undefined) flags.port = raw.port === 'off' ? null : Number(raw.port)
  if (raw.redis !== undefined) flags.redis = raw.redis
  const influxUrl = (raw.influx as string | undefined) ?? process.env.VPP_INFLUX_URL
  if (influxUrl) flags.influx = { url: influxUrl }
  const config = raw.config ? loadConfigFile(String(raw.config), brokerConfigSchema, flags) : validateConfig('flags', brokerConfigSchema, flags)

  const logger = createLogger('broker')
  const users = readUsersFile(config.users)
  const counters = new Counters()
  const sink = config.influx
    ? new TelemetrySink(await InfluxTelemetryStore.open(config.influx), { logger: logger.child({ part: 'telemetry' }), counters })
    : undefined
  const broker = await startBroker({
    users,
    host: config.host,
    port: config.port,
    tls: config.tls && { ...config.tls, cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
    websocket: config.websocket,
    maxPacketBytes: config.maxPacketBytes,
    limits: config.limits,
    drainTimeoutMs: config.drainTimeoutMs,
    redisUrl: config.redis,
    telemetrySink: sink,
    logger,
  })
  console.log(`OpenVPP broker: ${users.length} users, ${Object.values(broker.urls).join(', ')}${config.redis ? ' (cluster via Redis)' : ''}${sink ? `, telemetry into ${config.influx!.url}` : ''}`)
  onStopSignal(() => void broker.close().then(() => process.exit(0)))
}

async function askHidden(prompt: string): Promise<string> {
  let muted = false
  const output = new Writable({ write: (chunk, _enc, cb) => (muted ? cb() : process.stdout.write(chunk, cb)) })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  const ask = (q: string) => new Promise<string>((resolve) => { muted = false; process.stdout.write(q); muted = true; rl.question('', resolve) })
  const first = await ask(prompt)
  const second = await ask('\nRepeat: ')
  rl.close()
  process.stdout.write('\n')
  if (first !== second) throw new Error('the passwords differ')
  return first
}
