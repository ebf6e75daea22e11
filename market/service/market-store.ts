import type Database from 'better-sqlite3'
import { openDurableDatabase } from '../../platform/durable-database.ts'
import type { Address, Hex } from 'viem'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import type { SignedOrder } from '../../protocol/order.ts'
import type { IntervalResult, Trade } from '../../protocol/messages.ts'
import type { BookOrder } from '../engine/book.ts'
import { orderHoldBaseUnits } from '../../protocol/collateral.ts'

export interface StoredOrder extends BookOrder {
  agentId: string
  signed: SignedOrder
}

export interface TradeRow extends Trade {
  settlementTx: Hex | null
  settlementStatus: IntervalResult['settlement']['status']
}

/** Settlement states of an interval that may still settle: its trades hold escrow until it leaves them. */
const UNSETTLED_STATUSES = ['pending', 'submitted', 'failed'] as const satisfies readonly IntervalResult['settlement']['status'][]
const UNSETTLED_SQL = UNSETTLED_STATUSES.map((s) => `'${s}'`).join(', ')

/** Whether an interval in this settlement state may still settle. */
export function isUnsettled(status: IntervalResult['settlement']['status']): boolean {
  return (UNSETTLED_STATUSES as readonly string[]).includes(status)
}

/** Rolls back a replace whose new order is already stored. */
class DuplicateInReplace extends Error {}

/**
 * The market's durable state in SQLite. WAL with synchronous=FULL: once `insertOrder` returns, the
 * order survives a crash or power cut, so an order is acknowledged only after it.
 */
export class MarketStore {
  private readonly db: Database.Database
  /** Prepared once: intake stores every accepted order with it. */
  private insertOrderStatement: Database.Statement | undefined

  constructor(path: string) {
    this.db = openDurableDatabase(path)
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS orders (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        hash TEXT NOT NULL UNIQUE,
        interval INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        side INTEGER NOT NULL,
        energy_wh INTEGER NOT NULL,
        limit_price INTEGER NOT NULL,
        payload TEXT NOT NULL,
        accepted_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS orders_interval ON orders(interval);
      CREATE TABLE IF NOT EXISTS intervals (
        interval INTEGER PRIMARY KEY,
        result TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS trades (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        interval INTEGER NOT NULL,
        buy_order TEXT NOT NULL,
        sell_order TEXT NOT NULL,
        buyer TEXT NOT NULL,
        seller TEXT NOT NULL,
        energy_wh INTEGER NOT NULL,
        price INTEGER NOT NULL,
        seller_price INTEGER NOT NULL DEFAULT 0,
        node TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX IF NOT EXISTS trades_interval ON trades(interval);
      CREATE TABLE IF NOT EXISTS meter_readings (
        interval INTEGER NOT NULL,
        owner TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (interval, owner)
      );
    `)
    // Databases written before trades carried a node and a seller price get the columns added.
    const columns = new Set((this.db.prepare(`PRAGMA table_info(trades)`).all() as { name: string }[]).map((c) => c.name))
    if (!columns.has('seller_price')) this.db.exec(`ALTER TABLE trades ADD COLUMN seller_price INTEGER NOT NULL DEFAULT 0`)
    if (!columns.has('node')) this.db.exec(`ALTER TABLE trades ADD COLUMN node TEXT NOT NULL DEFAULT ''`)
    const orderColumns = new Set((this.db.prepare(`PRAGMA table_info(orders)`).all() as { name: string }[]).map((c) => c.name))
    if (!orderColumns.has('cancelled')) this.db.exec(`ALTER TABLE orders ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0`)
    // The settlement status and transaction beside the result, so a query of many trades (or of an
    // owner's unsettled ones) does not parse a whole interval result for each row.
    const intervalColumns = new Set((this.db.prepare(`PRAGMA table_info(intervals)`).all() as { name: string }[]).map((c) => c.name))
    if (!intervalColumns.has('status')) {
      this.db.exec(`ALTER TABLE intervals ADD COLUMN status TEXT NOT NULL DEFAULT ''`)
      this.db.exec(`ALTER TABLE intervals ADD COLUMN tx TEXT`)
      this.db.exec(`UPDATE intervals SET status = json_extract(result, '$.settlement.status'), tx = json_extract(result, '$.settlement.tx')`)
    }
  }

  /** Whether `owner` already has a stored reading for `interval` (checked before any signature work). */
  hasMeterReading(interval: number, owner: Address): boolean {
    return this.db.prepare(`SELECT 1 FROM meter_readings WHERE interval = ? AND owner = ?`).get(interval, owner.toLowerCase()) !== undefined
  }

  /** Stores a verified meter reading; false when the owner already has one for that interval (the first stands). */
  insertMeterReading(signed: SignedMeterReading): boolean {
    const { interval, owner } = signed.reading
    const info = this.db
      .prepare(`INSERT OR IGNORE INTO meter_readings (interval, owner, payload, received_at) VALUES (?, ?, ?, ?)`)
      .run(interval, owner.toLowerCase(), JSON.stringify(signed), new Date().toISOString())
    return info.changes === 1
  }

  /** The meter readings of one interval, by lower-case owner address. */
  meterReadingsFor(interval: number): Map<string, SignedMeterReading> {
    const rows = this.db.prepare(`SELECT owner, payload FROM meter_readings WHERE interval = ?`).all(interval) as { owner: string; payload: string }[]
    return new Map(rows.map((r) => [r.owner, JSON.parse(r.payload) as SignedMeterReading]))
  }

  /** Stores an accepted order; false when an order with this hash is already stored. */
  insertOrder(agentId: string, hash: Hex, signed: SignedOrder): boolean {
    const o = signed.order
    this.insertOrderStatement ??= this.db.prepare(
      `INSERT OR IGNORE INTO orders (hash, interval, agent_id, owner, side, energy_wh, limit_price, payload, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const info = this.insertOrderStatement
      .run(hash, o.interval, agentId, o.owner, o.side, o.energyWh, o.limitPrice, JSON.stringify(signed), new Date().toISOString())
    return info.changes === 1
  }

  /** Stores many accepted orders in one transaction (an import, a replayed log); how many were new. */
  insertOrders(entries: Iterable<{ agentId: string; hash: Hex; signed: SignedOrder }>): number {
    return this.db.transaction(() => {
      let added = 0
      for (const e of entries) if (this.insertOrder(e.agentId, e.hash, e.signed)) added++
      return added
    })()
  }

  /**
   * Cancels an open order of `owner` in `interval`; false when there is no such order still open.
   * Durable once it returns, like an acceptance.
   */
  cancelOrder(hash: Hex, owner: Address, interval: number): boolean {
    const info = this.db
      .prepare(`UPDATE orders SET cancelled = 1 WHERE hash = ? AND lower(owner) = lower(?) AND interval = ? AND cancelled = 0`)
      .run(hash.toLowerCase(), owner, interval)
    return info.changes === 1
  }

  /** Cancels every open order signed by `owner` for `interval` or later (a member removed or re-keyed); how many. */
  cancelOpenOrdersOf(owner: Address, interval: number): number {
    return this.db.prepare(`UPDATE orders SET cancelled = 1 WHERE lower(owner) = lower(?) AND interval >= ? AND cancelled = 0`).run(owner, interval).changes
  }

  /** Cancels `replaces` and stores the new order in one transaction: both happen or neither. */
  replaceOrder(agentId: string, replaces: Hex, hash: Hex, signed: SignedOrder): 'replaced' | 'no_open_order' | 'duplicate' {
    try {
      return this.db.transaction(() => {
        if (!this.cancelOrder(replaces, signed.order.owner, signed.order.interval)) return 'no_open_order' as const
        if (!this.insertOrder(agentId, hash, signed)) throw new DuplicateInReplace()
        return 'replaced' as const
      }).immediate()
    } catch (error) {
      if (error instanceof DuplicateInReplace) return 'duplicate'
      throw error
    }
  }

  /**
   * What one open order of `owner` holds of its escrow: a buy its cost at its limit, a sell the
   * imbalance charge of all of it (0 when there is no such open order). It leaves the exposure when replaced.
   */
  openOrderHold(hash: Hex, owner: Address, imbalancePrice: number): bigint {
    const row = this.db
      .prepare(`SELECT side, energy_wh, limit_price FROM orders WHERE hash = ? AND lower(owner) = lower(?) AND cancelled = 0`)
      .get(hash.toLowerCase(), owner) as { side: number; energy_wh: number; limit_price: number } | undefined
    if (!row) return 0n
    return orderHoldBaseUnits({ side: row.side, energyWh: row.energy_wh, limitPrice: row.limit_price }, imbalancePrice)
  }

  /** How many orders `agentId` has open in `interval`. */
  openOrderCount(agentId: string, interval: number): number {
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM orders WHERE agent_id = ? AND interval = ? AND cancelled = 0`).get(agentId, interval) as { n: number }
    return row.n
  }

  ordersFor(interval: number): StoredOrder[] {
    const rows = this.db.prepare(`SELECT seq, hash, agent_id, payload FROM orders WHERE interval = ? AND cancelled = 0 ORDER BY seq`).all(interval) as {
      seq: number
      hash: Hex
      agent_id: string
      payload: string
    }[]
    return rows.map((r) => {
      const signed = JSON.parse(r.payload) as SignedOrder
      const o = signed.order
      return { hash: r.hash, owner: o.owner, side: o.side, energyWh: o.energyWh, limitPrice: o.limitPrice, seq: r.seq, agentId: r.agent_id, signed }
    })
  }

  /**
   * What of an owner's escrow its open business could still take, in base units (rounded as the
   * contract rounds against the owner): its buys in `openInterval` at their limits and its sells there
   * at the imbalance price (the collateral the contract demands of a sell fill), plus its awarded
   * trades in intervals not yet settled, bought at their price or sold at the imbalance price.
   */
  openExposure(owner: Address, openInterval: number, imbalancePrice: number): bigint {
    return this.openOrdersHold(owner, openInterval, imbalancePrice) + this.unsettledTradesHold(owner, imbalancePrice)
  }

  /** What an owner's open orders in `openInterval` hold: buys at their limits, sells at the imbalance price. */
  openOrdersHold(owner: Address, openInterval: number, imbalancePrice: number): bigint {
    const orders = this.db
      .prepare(`SELECT side, energy_wh, limit_price FROM orders WHERE lower(owner) = lower(?) AND interval = ? AND cancelled = 0`)
      .all(owner, openInterval) as { side: number; energy_wh: number; limit_price: number }[]
    return orders.reduce((total, o) => total + orderHoldBaseUnits({ side: o.side, energyWh: o.energy_wh, limitPrice: o.limit_price }, imbalancePrice), 0n)
  }

  /** What an owner's awarded trades in intervals not yet settled hold: a buy at its price, a sell at the imbalance price. */
  unsettledTradesHold(owner: Address, imbalancePrice: number): bigint {
    const awarded = this.db
      .prepare(
        `SELECT lower(t.buyer) = lower(?) AS bought, t.energy_wh, t.price FROM trades t JOIN intervals i ON i.interval = t.interval
         WHERE (lower(t.buyer) = lower(?) OR lower(t.seller) = lower(?)) AND i.status IN (${UNSETTLED_SQL})`,
      )
      .all(owner, owner, owner) as { bought: number; energy_wh: number; price: number }[]
    return awarded.reduce((total, t) => total + orderHoldBaseUnits({ side: t.bought ? 0 : 1, energyWh: t.energy_wh, limitPrice: t.price }, imbalancePrice), 0n)
  }

  /** Stores a clearing result and its trades in one transaction. */
  saveClearing(result: IntervalResult): void {
    this.db.transaction(() => {
      this.db.prepare(`INSERT OR REPLACE INTO intervals (interval, result, status, tx) VALUES (?, ?, ?, ?)`).run(result.interval, JSON.stringify(result), result.settlement.status, result.settlement.tx)
      this.db.prepare(`DELETE FROM trades WHERE interval = ?`).run(result.interval)
      const insert = this.db.prepare(
        `INSERT INTO trades (interval, buy_order, sell_order, buyer, seller, energy_wh, price, seller_price, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      for (const t of result.trades) insert.run(t.interval, t.buyOrder, t.sellOrder, t.buyer, t.seller, t.energyWh, t.price, t.sellerPrice, t.node)
    })()
  }

  updateSettlement(interval: number, settlement: IntervalResult['settlement']): IntervalResult | undefined {
    const result = this.interval(interval)
    if (!result) return undefined
    const updated = { ...result, settlement }
    this.db.prepare(`UPDATE intervals SET result = ?, status = ?, tx = ? WHERE interval = ?`).run(JSON.stringify(updated), settlement.status, settlement.tx, interval)
    return updated
  }

  /** Cleared intervals before `before` whose settlement is pending or failed: work left by a restart. */
  unsettledIntervals(before: number): number[] {
    const rows = this.db
      .prepare(`SELECT interval FROM intervals WHERE interval < ? AND status IN (${UNSETTLED_SQL}) ORDER BY interval`)
      .all(before) as { interval: number }[]
    return rows.map((r) => r.interval)
  }

  interval(interval: number): IntervalResult | undefined {
    const row = this.db.prepare(`SELECT result FROM intervals WHERE interval = ?`).get(interval) as { result: string } | undefined
    return row ? (JSON.parse(row.result) as IntervalResult) : undefined
  }

  recentIntervals(limit: number): IntervalResult[] {
    const rows = this.db.prepare(`SELECT result FROM intervals ORDER BY interval DESC LIMIT ?`).all(limit) as { result: string }[]
    return rows.map((r) => JSON.parse(r.result) as IntervalResult)
  }

  /** Trades, newest interval first; of one owner and of one interval when given; `offset` pages through them. */
  recentTrades(limit: number, owner?: Address, interval?: number, offset = 0): TradeRow[] {
    const rows = this.db
      .prepare(
        `SELECT t.interval, t.buy_order, t.sell_order, t.buyer, t.seller, t.energy_wh, t.price, t.seller_price, t.node,
                i.tx, i.status
         FROM trades t JOIN intervals i ON i.interval = t.interval
         WHERE (? IS NULL OR lower(t.buyer) = lower(?) OR lower(t.seller) = lower(?)) AND (? IS NULL OR t.interval = ?)
         ORDER BY t.interval DESC, t.id ASC LIMIT ? OFFSET ?`,
      )
      .all(owner ?? null, owner ?? null, owner ?? null, interval ?? null, interval ?? null, limit, offset) as {
      interval: number
      buy_order: Hex
      sell_order: Hex
      buyer: Address
      seller: Address
      energy_wh: number
      price: number
      seller_price: number
      node: string
      tx: Hex | null
      status: IntervalResult['settlement']['status']
    }[]
    return rows.map((r) => ({
      interval: r.interval,
      buyOrder: r.buy_order,
      sellOrder: r.sell_order,
      buyer: r.buyer,
      seller: r.seller,
      energyWh: r.energy_wh,
      price: r.price,
      sellerPrice: r.seller_price,
      node: r.node,
      settlementTx: r.tx,
      settlementStatus: r.status,
    }))
  }

  close(): void {
    this.db.close()
  }
}
