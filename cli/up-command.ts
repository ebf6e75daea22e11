import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { createLogger } from '../platform/logger.ts'
import { freePort, portIsFree } from '../platform/free-port.ts'
import { parseDurationSeconds } from '../protocol/units.ts'
import type { IntervalResult } from '../protocol/messages.ts'
import { startNeighbourhood } from './neighbourhood.ts'
import { parseOptions } from './parse-options.ts'
import { onStopSignal } from '../platform/stop-signal.ts'

export const upOptionsSchema = z.object({
  homes: z.coerce.number().int().min(2, 'a market needs at least 2 homes').max(200),
  interval: z.string().transform((text, ctx) => {
    try {
      const seconds = parseDurationSeconds(text)
      if (seconds < 2) ctx.addIssue({ code: 'custom', message: 'must be at least 2s' })
      return seconds
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  }),
  port: z.coerce.number().int().min(0).max(65535),
  speed: z.coerce.number().positive().max(3600),
})

/** How long Ctrl-C may take before the process exits regardless. */
const STOP_DEADLINE_MS = 5000

/** `vpp up` (and `npm start`): the whole neighbourhood on this machine, until Ctrl-C. */
export async function upCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(upOptionsSchema, raw)
  const logger = createLogger('vpp', process.env.VPP_LOG_LEVEL ?? 'warn')
  const dashboardDir = fileURLToPath(new URL('../dashboard/dist', import.meta.url))
  if (!existsSync(dashboardDir)) console.warn('The dashboard is not built, so only the API is served: run `npm run build` first (npm start does).')

  let port = options.port
  if (port !== 0 && !(await portIsFree(port))) {
    const fallback = await freePort()
    console.warn(`Port ${port} is in use; using ${fallback} instead (choose one with --port).`)
    port = fallback
  }

  console.log(`Starting a neighbourhood of ${options.homes} homes with ${options.interval} s market intervals…`)
  const influxUrl = process.env.VPP_INFLUX_URL || undefined
  const hood = await startNeighbourhood({ homes: options.homes, intervalSeconds: options.interval, port, speed: options.speed, dashboardDir, influxUrl, logger })
  hood.market.on('interval', (result: IntervalResult) => console.log(describeInterval(result, hood.deployment.tokenDecimals, hood.deployment.tokenSymbol)))

  console.log(`
OpenVPP is up.
  Dashboard:   ${hood.url}
  API:         ${hood.url}/api/health
  MQTT broker: ${hood.broker.url}
  Chain:       ${hood.chain.rpcUrl} (anvil, chain id ${hood.deployment.chainId})
  Settlement:  ${hood.deployment.settlement}
  Operator:    VPP_OPERATOR_TOKEN=${hood.operatorToken} npm run vpp -- members pending --market ${hood.url}
  Telemetry:   ${influxUrl ? `InfluxDB at ${influxUrl}` : 'in memory (set VPP_INFLUX_URL=http://HOST:8086/DB for InfluxDB)'}
Press Ctrl-C to stop.
`)

  onStopSignal((signal) => {
    console.log(`\n${signal}: stopping the neighbourhood…`)
    setTimeout(() => {
      console.error('Stopping took longer than 5 s; exiting anyway.')
      hood.chain.process.kill('SIGKILL')
      process.exit(1)
    }, STOP_DEADLINE_MS).unref()
    void hood.stop().then(() => {
      console.log('Stopped.')
      process.exit(0)
    })
  })
}

function describeInterval(r: IntervalResult, decimals: number, symbol: string): string {
  const time = new Date(r.interval * 1000).toISOString().slice(11, 19)
  const price = r.clearingPrice === null ? 'no match' : `${(r.clearingPrice / 10 ** decimals).toFixed(3)} ${symbol}/kWh`
  const dropped = r.settlement.dropped?.length ? ` (${r.settlement.dropped.length} orders left out: ${r.settlement.dropped.map((d) => d.reason).join(', ')})` : ''
  if (r.settlement.status === 'settled') return `interval ${time}: settled on chain, tx ${r.settlement.tx ?? '(already settled)'}${dropped}`
  if (r.settlement.status === 'failed') return `interval ${time}: settlement FAILED: ${r.settlement.error}`
  if (r.settlement.status === 'expired') return `interval ${time}: settlement EXPIRED unsettled: ${r.settlement.error}`
  return `interval ${time}: ${r.orders} orders, ${r.trades.length} trades, ${r.volumeWh} Wh at ${price}`
}
