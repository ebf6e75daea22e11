import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { loadDeployment } from '../contracts/load-deployment.ts'
import { InfluxTelemetryStore } from '../telemetry/influx-telemetry-store.ts'
import { startApiServer } from '../market/api/api-server.ts'
import { marketConfigSchema } from '../market/service/market-config.ts'
import { MarketService } from '../market/service/market-service.ts'
import { loadConfigFile } from '../platform/config-file.ts'
import { createLogger } from '../platform/logger.ts'
import { VppError } from '../protocol/errors.ts'
import type { Hex } from 'viem'
import { onStopSignal } from '../platform/stop-signal.ts'

const keySchema = z.string().trim().regex(/^0x[0-9a-fA-F]{64}$/)

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    throw new VppError('VPP_ERR_CONFIG', `cannot read ${what} from ${path}`)
  }
}

/** `vpp market --config market.yaml`: one community's market, its API and dashboard, until Ctrl-C. */
export async function marketCommand(raw: Record<string, unknown>): Promise<void> {
  if (!raw.config) throw new VppError('VPP_ERR_CONFIG', '--config market.yaml is required (see README "Running the market")')
  const config = loadConfigFile(String(raw.config), marketConfigSchema)
  const operatorKey = keySchema.safeParse(readSecret(config.chain.operatorKeyFile, 'the operator key'))
  if (!operatorKey.success) throw new VppError('VPP_ERR_CONFIG', `${config.chain.operatorKeyFile} must hold a 0x-prefixed 32-byte private key`)
  const logger = createLogger('market')
  const deployment = await loadDeployment(config.chain.rpcUrl, config.chain.settlement)
  const influx = config.influx ? await InfluxTelemetryStore.open({ url: config.influx.url }) : undefined
  const market = new MarketService({
    community: config.community,
    intervalSeconds: config.intervalSeconds,
    mqtt: { url: config.mqtt.url, username: config.mqtt.username, password: readSecret(config.mqtt.passwordFile, 'the MQTT password') },
    members: config.members,
    topology: config.topology,
    pricing: config.pricing,
    chain: { rpcUrl: config.chain.rpcUrl, deployment, operatorKey: operatorKey.data as Hex },
    dataDir: config.dataDir,
    priceFloor: config.priceFloor,
    priceCap: config.priceCap,
    maxOrderWh: config.maxOrderWh,
    maxOrdersPerInterval: config.maxOrdersPerInterval,
    settlementMaxFills: config.settlementMaxFills,
    referenceTariffs: config.referenceTariffs,
    rateLimit: config.rateLimit,
    telemetry: influx && { store: influx, writtenBy: 'broker' },
    logger,
  })
  await market.start()
  const operatorToken = config.operatorTokenFile ? readSecret(config.operatorTokenFile, 'the operator token') : undefined
  const api = await startApiServer({ market, host: config.http.host, port: config.http.port, dashboardDir: config.dashboardDir, operatorToken, logger: logger.child({ part: 'api' }) })
  console.log(`OpenVPP market for ${config.community}: ${market.membership.registry.active().length} homes, ${config.intervalSeconds} s intervals, API ${api.url}`)
  onStopSignal(() => void api.close().then(() => market.stop()).then(() => process.exit(0)))
}
