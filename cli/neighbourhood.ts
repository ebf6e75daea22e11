import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Hex } from 'viem'
import { createLogger, type Logger } from '../platform/logger.ts'
import { startAnvil, ANVIL_DEV_KEYS, type RunningAnvil } from '../contracts/anvil.ts'
import { deployContracts, type Deployment } from '../contracts/deploy.ts'
import { fundHomesOnDevChain } from '../contracts/fund.ts'
import { startBroker, type RunningBroker } from '../broker/mqtt-broker.ts'
import { hashPassword } from '../broker/credentials.ts'
import type { User } from '../broker/users.ts'
import { LiveNeighbourhood } from '../simulator/live-neighbourhood.ts'
import { demoHomes } from '../simulator/home-model.ts'
import { MarketService } from '../market/service/market-service.ts'
import { startApiServer, type RunningApiServer } from '../market/api/api-server.ts'
import { EdgeAgent } from '../edge-agent/edge-agent.ts'
import type { Topology } from '../market/engine/topology.ts'
import { InfluxTelemetryStore } from '../telemetry/influx-telemetry-store.ts'
import { TelemetrySink } from '../telemetry/telemetry-sink.ts'
import { Counters } from '../platform/counters.ts'

export interface NeighbourhoodOptions {
  homes: number
  intervalSeconds: number
  /** Dashboard/API port; 0 picks a free one. */
  port: number
  community?: string
  /** Simulated seconds per real second for the homes' clock. */
  speed?: number
  dashboardDir?: string
  /** Keep the market database here instead of a fresh temporary folder. */
  dataDir?: string
  /** Telemetry history in InfluxDB 1.x (`http://HOST:8086/DATABASE`); in memory when absent. */
  influxUrl?: string
  logger?: Logger
}

export interface HomeHandle {
  agentId: string
  privateKey: Hex
  mqttPassword: string
  agent: EdgeAgent
}

export interface RunningNeighbourhood {
  url: string
  community: string
  chain: RunningAnvil
  deployment: Deployment
  broker: RunningBroker
  market: MarketService
  api: RunningApiServer
  simulator: LiveNeighbourhood
  homes: HomeHandle[]
  /** Bearer token for the operator's API calls (`vpp members … ` with VPP_OPERATOR_TOKEN). */
  operatorToken: string
  stop(): Promise<void>
}

/**
 * The demo street's grid: homes split between two transformers under one feeder. Neighbours on a
 * transformer trade fee-free; trades across the feeder pay 0.01 dUSD/kWh.
 */
export function demoTopology(): Topology {
  return [
    { id: 'feeder-1', parent: null, level: 'feeder', capacityKw: null, feePerKwh: 10_000 },
    { id: 'transformer-a', parent: 'feeder-1', level: 'transformer', capacityKw: 30, feePerKwh: 0 },
    { id: 'transformer-b', parent: 'feeder-1', level: 'transformer', capacityKw: 30, feePerKwh: 0 },
  ]
}
const transformerOf = (index: number, homes: number) => (index < Math.ceil(homes / 2) ? 'transformer-a' : 'transformer-b')

/** Demo tariffs in dUSD base units (6 decimals) per kWh: feed-in 0.08, retail 0.30. */
export const DEMO_TARIFFS = { feedInPrice: 80_000, retailPrice: 300_000 }
const DEV_TOKEN_UNIT = 1_000_000n

/**
 * Brings a whole neighbourhood up on this machine: anvil with the contracts deployed and every home
 * funded, the broker, the virtual SunSpec devices, the market with its API and dashboard, and one real
 * edge agent per home talking Modbus TCP to its device. `stop()` takes it all down again.
 */
export async function startNeighbourhood(options: NeighbourhoodOptions): Promise<RunningNeighbourhood> {
  const logger = options.logger ?? createLogger('vpp')
  const community = options.community ?? 'demo-street'
  const stack: (() => Promise<void>)[] = []
  const stopAll = async () => {
    for (const stop of stack.reverse()) await stop().catch((error) => logger.error({ err: error }, 'neighbourhood: stop failed'))
    stack.length = 0
  }

  try {
    const chain = await startAnvil()
    stack.push(() => chain.stop())
    const feeRecipient = privateKeyToAccount(ANVIL_DEV_KEYS[1]).address
    const deployment = await deployContracts({ rpcUrl: chain.rpcUrl, community, deployerKey: ANVIL_DEV_KEYS[0], feeRecipient, intervalLength: options.intervalSeconds })
    logger.info({ settlement: deployment.settlement, token: deployment.token }, 'neighbourhood: contracts deployed')

    const specs = demoHomes(options.homes)
    const keys = specs.map(() => generatePrivateKey())
    await fundHomesOnDevChain({
      rpcUrl: chain.rpcUrl,
      deployment,
      minterKey: ANVIL_DEV_KEYS[0],
      homeKeys: keys,
      mintBaseUnits: 1000n * DEV_TOKEN_UNIT,
      escrowBaseUnits: 500n * DEV_TOKEN_UNIT,
    })

    const passwords = specs.map(() => randomBytes(12).toString('hex'))
    const marketPassword = randomBytes(12).toString('hex')
    // These passwords are 96 random bits, never chosen by a person: a low scrypt cost loses nothing,
    // and 200 homes start in moments instead of minutes.
    const users: User[] = [
      ...specs.map((s, i) => ({ username: s.id, passwordHash: hashPassword(passwords[i]!, 1024), role: 'agent' as const, community })),
      { username: 'market', passwordHash: hashPassword(marketPassword, 1024), role: 'market' as const, community },
    ]
    const influx = options.influxUrl ? await InfluxTelemetryStore.open({ url: options.influxUrl }) : undefined
    const telemetrySink = influx && new TelemetrySink(influx, { logger: logger.child({ part: 'telemetry' }), counters: new Counters() })
    const broker = await startBroker({ users, telemetrySink, logger: logger.child({ part: 'broker' }) })
    stack.push(() => broker.close())

    const simulator = new LiveNeighbourhood({ homes: specs, speed: options.speed ?? 1 })
    await simulator.start()
    stack.push(() => simulator.stop())

    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'openvpp-'))
    if (!options.dataDir) stack.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    const market = new MarketService({
      community,
      intervalSeconds: options.intervalSeconds,
      mqtt: { url: broker.url, username: 'market', password: marketPassword },
      members: specs.map((s, i) => ({ agentId: s.id, address: privateKeyToAccount(keys[i]!).address, node: transformerOf(i, specs.length) })),
      topology: demoTopology(),
      chain: { rpcUrl: chain.rpcUrl, deployment, operatorKey: ANVIL_DEV_KEYS[0] },
      dataDir,
      priceFloor: 0,
      priceCap: 1_000_000,
      maxOrderWh: 1_000_000,
      referenceTariffs: DEMO_TARIFFS,
      telemetry: influx && { store: influx, writtenBy: 'broker' },
      logger: logger.child({ part: 'market' }),
    })
    await market.start()
    stack.push(() => market.stop())
    // The operator's token for `vpp members …` and the dashboard's operator page, fresh each run.
    const operatorToken = randomBytes(24).toString('base64url')
    const api = await startApiServer({ market, port: options.port, dashboardDir: options.dashboardDir, operatorToken, logger: logger.child({ part: 'api' }) })
    stack.push(() => api.close())

    const homes: HomeHandle[] = []
    for (const [i, spec] of specs.entries()) {
      const agent = new EdgeAgent({
        agentId: spec.id,
        community,
        mqtt: { url: broker.url, password: passwords[i]! },
        modbus: { transport: 'tcp', host: '127.0.0.1', port: simulator.homes[i]!.device.port },
        unitId: 1,
        privateKey: keys[i]!,
        pollMs: 1000,
        telemetryMs: 2000,
        strategy: { ...DEMO_TARIFFS, steps: 2, minOrderWh: 1 },
        marketUrl: api.url,
        dataDir: join(dataDir, 'agents', spec.id),
        // Homes with a battery steer it to deliver what they sold (their devices have SunSpec 124).
        battery: spec.batteryWh > 0 ? { maxW: spec.batteryMaxW, socFloorPct: 10, socCeilingPct: 95, capacityWh: spec.batteryWh, controlSeconds: 2 } : undefined,
        logger: logger.child({ part: 'agent', agentId: spec.id }),
      })
      await agent.start()
      stack.push(() => agent.stop())
      homes.push({ agentId: spec.id, privateKey: keys[i]!, mqttPassword: passwords[i]!, agent })
    }

    return { url: api.url, community, chain, deployment, broker, market, api, simulator, homes, operatorToken, stop: stopAll }
  } catch (error) {
    await stopAll()
    throw error
  }
}
