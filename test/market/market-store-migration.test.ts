import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, it } from 'vitest'
import { MarketStore } from '../../market/service/market-store.ts'

const BUYER = `0x${'1'.repeat(40)}` as const
const SELLER = `0x${'2'.repeat(40)}` as const
const TX = `0x${'f'.repeat(64)}` as const

/** A market.sqlite as markets before the status columns wrote it: the settlement only inside the result. */
function oldDatabase(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vpp-store-')), 'market.sqlite')
  const db = new Database(path)
  db.exec(`
    CREATE TABLE intervals (interval INTEGER PRIMARY KEY, result TEXT NOT NULL);
    CREATE TABLE trades (id INTEGER PRIMARY KEY AUTOINCREMENT, interval INTEGER NOT NULL, buy_order TEXT NOT NULL, sell_order TEXT NOT NULL,
      buyer TEXT NOT NULL, seller TEXT NOT NULL, energy_wh INTEGER NOT NULL, price INTEGER NOT NULL, seller_price INTEGER NOT NULL DEFAULT 0, node TEXT NOT NULL DEFAULT '');
  `)
  const result = (interval: number, status: string, tx: string | null) => JSON.stringify({ interval, trades: [], settlement: { status, tx, error: null } })
  db.prepare(`INSERT INTO intervals VALUES (?, ?)`).run(900, result(900, 'settled', TX))
  db.prepare(`INSERT INTO intervals VALUES (?, ?)`).run(1800, result(1800, 'pending', null))
  const trade = db.prepare(`INSERT INTO trades (interval, buy_order, sell_order, buyer, seller, energy_wh, price, seller_price, node) VALUES (?, ?, ?, ?, ?, 100, 200000, 190000, 'street')`)
  trade.run(900, `0x${'a'.repeat(64)}`, `0x${'b'.repeat(64)}`, BUYER, SELLER)
  trade.run(1800, `0x${'c'.repeat(64)}`, `0x${'d'.repeat(64)}`, BUYER, SELLER)
  db.close()
  return path
}

it("reads an older market's settlement status and transaction after adding their columns", () => {
  const store = new MarketStore(oldDatabase())
  expect(store.recentTrades(10).map((t) => [t.interval, t.settlementStatus, t.settlementTx])).toEqual([
    [1800, 'pending', null],
    [900, 'settled', TX],
  ])
  expect(store.unsettledIntervals(10_000)).toEqual([1800])
  // The pending trade still holds the buyer's escrow: 100 Wh at 200,000 per kWh.
  expect(store.unsettledTradesHold(BUYER, 400_000)).toBe(20_000n)
  store.updateSettlement(1800, { status: 'settled', tx: TX, error: null })
  expect(store.unsettledIntervals(10_000)).toEqual([])
  expect(store.unsettledTradesHold(BUYER, 400_000)).toBe(0n)
  store.close()
})
