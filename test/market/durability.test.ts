import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { privateKeyToAccount } from 'viem/accounts'
import type { Hex } from 'viem'
import { stringify as stringifyYaml } from 'yaml'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { clearPayAsClear, type BookOrder } from '../../market/engine/reference/clearing.ts'
import { freePort } from '../../platform/free-port.ts'
import { createLogger } from '../../platform/logger.ts'
import type { IntervalResult, MarketState } from '../../protocol/messages.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { runVpp, spawnVpp } from '../helpers/run-vpp.ts'
import { waitFor } from '../helpers/wait-for.ts'

const INTERVAL_SECONDS = 20
let chain: TestChain
let broker: RunningBroker
let configFile: string
let dataDir: string
let apiUrl: string
const running: ReturnType<typeof spawnVpp>[] = []

beforeAll(async () => {
  chain = await startTestChain(2, { intervalLength: INTERVAL_SECONDS })
  broker = await startBroker({ users: [{ username: 'market', passwordHash: hashPassword('market-secret', 1024), role: 'market', community: 'street' }], logger: createLogger('b', 'silent') })
  const dir = mkdtempSync(join(tmpdir(), 'vpp-durable-'))
  dataDir = join(dir, 'data')
  writeFileSync(join(dir, 'mqtt.secret'), 'market-secret\n')
  writeFileSync(join(dir, 'operator.key'), `${ANVIL_DEV_KEYS[0]}\n`)
  const port = await freePort()
  apiUrl = `http://127.0.0.1:${port}`
  configFile = join(dir, 'market.yaml')
  writeFileSync(
    configFile,
    stringifyYaml({
      community: 'street',
      intervalSeconds: INTERVAL_SECONDS,
      mqtt: { url: broker.url, passwordFile: join(dir, 'mqtt.secret') },
      members: chain.homeKeys.map((k, i) => ({ agentId: `home-0${i + 1}`, address: privateKeyToAccount(k).address })),
      chain: { rpcUrl: chain.anvil.rpcUrl, settlement: chain.deployment.settlement, operatorKeyFile: join(dir, 'operator.key') },
      dataDir,
      http: { port },
    }),
  )
})
afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) process.kill(-p.child.pid!, 'SIGKILL')
  await broker?.close()
  await chain?.anvil.stop()
})

async function startMarket() {
  const market = spawnVpp(['market', '--config', configFile], { VPP_LOG_LEVEL: 'silent' })
  running.push(market)
  await waitFor('the market API', async () => (await fetch(`${apiUrl}/api/health`)).ok, 60_000)
  return market
}

describe('vpp market durability', () => {
  it('keeps every acknowledged order through a SIGKILL and clears them to the same result after restart', async () => {
    let market = await startMarket()
    // Leave at least 12 s before gate closure for the orders, the kill and the restart.
    const state = await waitFor('an open interval with time to spare', async () => {
      const s = (await (await fetch(`${apiUrl}/api/market`)).json()) as MarketState
      return s.gateClosure * 1000 - Date.now() > 12_000 ? s : undefined
    }, 30_000, 500)

    const acked: BookOrder[] = []
    const book = [
      [0, 1, 120, 100_000],
      [1, 0, 80, 250_000],
      [0, 1, 60, 150_000],
      [1, 0, 90, 180_000],
      [0, 1, 50, 90_000],
      [1, 0, 40, 300_000],
    ] as const
    for (const [n, [home, side, energyWh, limitPrice]] of book.entries()) {
      const key = chain.homeKeys[home]! as Hex
      const owner = privateKeyToAccount(key).address
      const signed = await signOrder(privateKeyToAccount(key), { owner, community: state.communityKey, interval: state.openInterval, side, energyWh, limitPrice, nonce: n }, state.chainId, state.settlement)
      const res = await fetch(`${apiUrl}/api/orders`, { method: 'POST', body: JSON.stringify(signed) })
      expect(res.status).toBe(201)
      const { hash } = (await res.json()) as { hash: Hex }
      acked.push({ hash, owner, side, energyWh, limitPrice, seq: n + 1 })
    }

    // Power cut: no shutdown hook runs.
    process.kill(-market.child.pid!, 'SIGKILL')
    await market.exited
    const db = new Database(join(dataDir, 'market.sqlite'), { readonly: true })
    const stored = (db.prepare('SELECT hash FROM orders WHERE interval = ?').all(state.openInterval) as { hash: string }[]).map((r) => r.hash)
    db.close()
    expect(stored.sort()).toEqual(acked.map((o) => o.hash).sort())

    market = await startMarket()
    const result = await waitFor('the interval cleared after the restart', async () => {
      const list = (await (await fetch(`${apiUrl}/api/intervals?limit=10`)).json()) as IntervalResult[]
      return list.find((r) => r.interval === state.openInterval)
    }, 60_000, 500)
    const expected = clearPayAsClear(acked)
    expect(result.orders).toBe(acked.length)
    expect(result.clearingPrice).toBe(expected.clearingPrice)
    expect(result.volumeWh).toBe(expected.volumeWh)
    expect(result.trades.map((t) => [t.buyOrder, t.sellOrder, t.energyWh, t.price])).toEqual(expected.trades.map((t) => [t.buyOrder, t.sellOrder, t.energyWh, t.price]))
    market.interrupt()
    expect(await market.exited).toBe(0)
  }, 180_000)

  it('names the bad key of a broken market.yaml', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'vpp-badmarket-')), 'market.yaml')
    writeFileSync(bad, 'community: street\nintervalSeconds: 1\nmqtt: {url: http://x}\n')
    const result = await runVpp(['market', '--config', bad])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('intervalSeconds: Too small')
    expect(result.stderr).toContain('mqtt.url: must be an mqtt://')
    expect(result.stderr).toContain('chain: is required')
  })
})
