import { afterAll, describe, expect, it } from 'vitest'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { createLogger } from '../../platform/logger.ts'
import { INFLUXD, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { missing } from '../helpers/requires.ts'

interface History {
  store: string
  resolution: string
  samples: { ts: string; pv_w: number | null; load_w: number | null }[]
}

const running: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const stop of running.reverse()) await stop()
})

async function historyOf(hood: RunningNeighbourhood, agentId: string, query = ''): Promise<History> {
  return (await fetch(`${hood.url}/api/agents/${agentId}/telemetry${query}`)).json() as Promise<History>
}

describe('telemetry history through one store interface', () => {
  it('serves history from memory when no InfluxDB is configured', async () => {
    const hood = await startNeighbourhood({ homes: 2, intervalSeconds: 60, port: 0, logger: createLogger('t', 'silent') })
    running.push(() => hood.stop())
    const history = await waitFor('a few samples', async () => {
      const h = await historyOf(hood, 'home-01')
      return h.samples.length >= 3 ? h : undefined
    })
    expect(history.store).toBe('memory')
    expect(history.samples.every((s) => typeof s.load_w === 'number')).toBe(true)
    const bad = await fetch(`${hood.url}/api/agents/home-01/telemetry?resolution=5m`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { message: string }).message).toMatch(/resolution/)
  })

  it.skipIf(missing('InfluxDB', INFLUXD, 'apt-get install -y influxdb'))('serves history from InfluxDB, written by the broker, when VPP_INFLUX_URL is set', async () => {
    const influxd: RunningInfluxd = await startInfluxd()
    running.push(() => influxd.stop())
    const hood = await startNeighbourhood({ homes: 2, intervalSeconds: 60, port: 0, influxUrl: influxd.url('openvpp'), logger: createLogger('t', 'silent') })
    running.push(() => hood.stop())
    const history = await waitFor('samples in InfluxDB', async () => {
      const h = await historyOf(hood, 'home-02')
      return h.samples.length >= 3 ? h : undefined
    })
    expect(history.store).toBe('influxdb')
    expect(history.samples.every((s) => typeof s.load_w === 'number')).toBe(true)
    // The broker's sink wrote them: they are in InfluxDB itself, not only in the API's answer.
    const fromInflux = await (await fetch(`http://127.0.0.1:${influxd.port}/query?db=openvpp&q=${encodeURIComponent('SELECT count("load_w") FROM "raw"."telemetry" WHERE "agent" = \'home-02\'')}`)).json() as { results: { series?: { values: [string, number][] }[] }[] }
    expect(fromInflux.results[0]!.series![0]!.values[0]![1]).toBeGreaterThanOrEqual(3)
  })
})
