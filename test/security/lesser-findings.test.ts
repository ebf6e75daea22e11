import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { io as connectSocket } from 'socket.io-client'
import { hashTypedData, parseSignature, serializeSignature, toHex } from 'viem'
import { meterReadingMessage, meterReadingTypes } from '../../protocol/meter-reading.ts'
import { orderDomain } from '../../protocol/order.ts'
import { privateKeyToAccount } from 'viem/accounts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { clientKey } from '../../market/service/client-key.ts'
import { RateLimiter } from '../../market/service/rate-limiter.ts'
import { SignaturePool } from '../../market/service/signatures/signature-pool.ts'
import { digestPrefix } from '../../protocol/order-digest.ts'
import { createLogger } from '../../platform/logger.ts'
import type { Book } from '../../protocol/api.ts'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 11, the lesser ones: a dead signature worker stayed in the pool and orders sent to it
// were never answered; the open book with its limit prices was public before gate closure; socket.io
// took connections from any origin; the HTTP rate limiter's map was unbounded and keyed IPv6 clients
// per address.

const INTERVAL = 4
let c: TestCommunity
let api: RunningApiServer
beforeAll(async () => {
  c = await startCommunity({ homes: 2, intervalSeconds: INTERVAL })
  api = await startApiServer({ market: c.market, port: 0, logger: createLogger('api', 'silent') })
})
afterAll(async () => {
  await api?.close()
  await c?.close()
})

describe('attack: lesser findings', () => {
  it('a signature worker that dies is replaced, and the next order is still answered', async () => {
    const pool = new SignaturePool({ size: 1 })
    try {
      const home = c.homes[0]!
      const { chainId, settlement } = c.chain.deployment
      const prefix = digestPrefix(chainId, settlement)
      const signed = await c.sign(c.orderOf(home), home.key)
      expect((await pool.recoverOrder(signed.order, signed.signature, prefix)).signer?.toLowerCase()).toBe(home.address.toLowerCase())
      // Kill the only worker, as a crash in native code would.
      await (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers[0]!.worker.terminate()
      await waitFor('the worker replaced', () => pool.replaced === 1, 5000, 20)
      const next = await c.sign(c.orderOf(home), home.key)
      expect((await pool.recoverOrder(next.order, next.signature, prefix)).signer).toBe(privateKeyToAccount(home.key).address.toLowerCase())
    } finally {
      await pool.close()
    }
  })

  it('fails a batch that a hung worker never answers, instead of letting the order wait forever', async () => {
    const pool = new SignaturePool({ size: 1, timeoutMs: 200, workerScript: new URL('../helpers/hung-worker.mjs', import.meta.url) })
    try {
      const home = c.homes[0]!
      const signed = await c.sign(c.orderOf(home), home.key)
      const prefix = digestPrefix(c.chain.deployment.chainId, c.chain.deployment.settlement)
      await expect(pool.recoverOrder(signed.order, signed.signature, prefix)).rejects.toThrow(/gave no answer in 200 ms/)
    } finally {
      await pool.close()
    }
  })

  it('recovers a meter reading on the pool as the contract would: its signer, and nothing for its high-s twin', async () => {
    const pool = new SignaturePool({ size: 1 })
    try {
      const home = c.homes[0]!
      const signed = await c.reading(home, 900 * 2_000_000, 42)
      const { chainId, settlement } = c.chain.deployment
      const digest = hashTypedData({ domain: orderDomain(chainId, settlement), types: meterReadingTypes, primaryType: 'MeterReading', message: meterReadingMessage(signed.reading) })
      const bytes = Buffer.from(digest.slice(2), 'hex')
      expect((await pool.recoverDigest(bytes, signed.signature, home.address))?.toLowerCase()).toBe(home.address.toLowerCase())
      const { r, s, yParity } = parseSignature(signed.signature)
      const twin = serializeSignature({ r, s: toHex(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n - BigInt(s), { size: 32 }), yParity: 1 - yParity! })
      expect(await pool.recoverDigest(bytes, twin, home.address)).toBeNull()
    } finally {
      await pool.close()
    }
  })

  it("keeps the open interval's limit prices sealed until gate closure, then publishes the book", async () => {
    const home = c.homes[1]!
    const interval = await c.freshInterval()
    const feed = connectSocket(api.url, { transports: ['websocket'] })
    const events: Record<string, unknown>[] = []
    feed.on('order', (e: Record<string, unknown>) => events.push(e))
    await new Promise<void>((resolve) => feed.once('connect', () => resolve()))
    expect((await c.market.submitOrder(JSON.stringify(await c.sign(c.orderOf(home, { side: 0, energyWh: 10, limitPrice: 123_456 }), home.key)), { mqttAgentId: home.agentId })).ok).toBe(true)
    const open = (await (await fetch(`${api.url}/api/book?interval=${interval}`)).json()) as Book
    expect(open).toEqual({ interval, sealed: true, orders: [], bids: 1, asks: 0 })
    await waitFor('the order event', () => events.length > 0, 5000, 20)
    expect(events[0]).not.toHaveProperty('limitPrice')
    feed.close()
    await waitFor('gate closure', () => c.market.state().openInterval > interval, 3 * INTERVAL * 1000, 50)
    const cleared = (await (await fetch(`${api.url}/api/book?interval=${interval}`)).json()) as Book
    expect(cleared).toMatchObject({ sealed: false, orders: [{ side: 0, energyWh: 10, limitPrice: 123_456 }] })
  })

  it("refuses the live feed to another site's page, and serves the dashboard's own origin and non-browsers", async () => {
    const attempt = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const socket = connectSocket(api.url, { transports: ['polling'], extraHeaders: headers, reconnection: false })
        socket.once('connect', () => (socket.close(), resolve('connected')))
        socket.once('connect_error', (error) => (socket.close(), resolve(`refused: ${error.message}`)))
      })
    expect(await attempt({ origin: 'http://evil.example' })).toMatch(/^refused/)
    expect(await attempt({ origin: api.url })).toBe('connected')
    expect(await attempt({})).toBe('connected')
  })

  it('keeps a bounded number of HTTP rate-limit buckets, one per IPv6 /64', () => {
    const limiter = new RateLimiter(1, 0.001, () => 0, 3)
    for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.take(key)
    expect(limiter.size).toBe(3)
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'))
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'))
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7')
    // Every address of one /64 shares one bucket: a host cannot rotate addresses to escape its limit.
    const http = new RateLimiter(2, 0.001, () => 0)
    const taken = ['2001:db8::1', '2001:db8::2', '2001:db8::3'].map((a) => http.take(clientKey(a)))
    expect(taken).toEqual([true, true, false])
  })
})
