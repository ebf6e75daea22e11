import { once } from 'node:events'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import type { Address, Hex } from 'viem'
import { recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clearHierarchical, orderColumns, type NodeOrder } from '../../market/engine/hierarchical-clearing.ts'
import { clearHierarchicalReference } from '../../market/engine/reference/reference-clearing.ts'
import { clearColumns, clearColumnsTypeScript } from '../../market/engine/columnar-clearing.ts'
import { nativeClearing } from '../../market/engine/native-clearing.ts'
import { ClearingWorkspace } from '../../market/engine/clearing-workspace.ts'
import { compileTopology } from '../../market/engine/compiled-topology.ts'
import type { Topology } from '../../market/engine/topology.ts'
import { validateOrderPayload, type IntakeContext } from '../../market/service/order-validation.ts'
import { SignaturePool } from '../../market/service/signatures/signature-pool.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { communityKey, orderDomain, orderMessage, orderTypes, type SignedOrder } from '../../protocol/order.ts'
import { digestPrefix, orderDigester } from '../../protocol/order-digest.ts'
import { mulberry32 } from '../../simulator/random.ts'
import { medianMs, type Benchmark } from '../bench-result.ts'

/** A substation with `feeders` feeders of `perFeeder` transformers each, fees and capacities as in a suburb. */
export function suburbTopology(feeders: number, perFeeder: number, capacityKw = { feeder: 4000, transformer: 400 }): Topology {
  const nodes: Topology = [{ id: 'S', parent: null, level: 'substation', capacityKw: null, feePerKwh: 40_000 }]
  for (let f = 0; f < feeders; f++) {
    nodes.push({ id: `F${f}`, parent: 'S', level: 'feeder', capacityKw: capacityKw.feeder, feePerKwh: 20_000 })
    for (let t = 0; t < perFeeder; t++) nodes.push({ id: `F${f}T${t}`, parent: `F${f}`, level: 'transformer', capacityKw: capacityKw.transformer, feePerKwh: 5_000 })
  }
  return nodes
}

/**
 * A random book where some transformers are mostly sellers (sunny roofs) and others mostly buyers,
 * so residual energy flows between transformers and links fill up, as in a real suburb at noon.
 */
export function randomBook(count: number, topology: Topology, seed: number): NodeOrder[] {
  const random = mulberry32(seed)
  const leaves = topology.filter((n) => n.level === 'transformer').map((n) => n.id)
  const sellShare = leaves.map(() => 0.1 + 0.8 * random())
  return Array.from({ length: count }, (_, i) => {
    const leaf = Math.floor(random() * leaves.length)
    return {
      hash: `0x${i.toString(16).padStart(64, '0')}` as Hex,
      owner: `0x${(i % 100_000).toString(16).padStart(40, '0')}` as Address,
      side: random() < sellShare[leaf]! ? 1 : 0,
      energyWh: 1 + Math.floor(random() * 800),
      limitPrice: 60_000 + Math.floor(random() * 260_000),
      seq: i,
      node: leaves[leaf]!,
    }
  })
}

/**
 * Hierarchical clearing at community scale (the columnar engine against the readable object engine
 * it must match), and signed-order validation throughput against viem's `recoverTypedDataAddress`.
 */
export const marketBenchmark: Benchmark = {
  name: 'market',
  description: 'hierarchical clearing of 1,000,000 and 10,000 orders (C engine, and the TypeScript engine beside it) vs. the readable engine; signed-order validation (1,000 agents seen in an earlier interval; and at first contact) vs. viem recoverTypedDataAddress and vs. bare native recovery on all cores',
  async run() {
    const engine = nativeClearing()
    if (!engine.available) console.warn(`market: the C clearing engine is not there (${engine.reason}); clear_*_orders_ms measure the TypeScript engine`)
    // Clearing first, in its own scope, so its million-order books are garbage before validation runs.
    const { clear1m, reference1m, clear10k, reference10k } = clearingFigures()

    // 1,000 agents, each sending a curve of 8 orders in the interval measured; an earlier interval's
    // orders (one per agent) came first, as in a market that has been running.
    const { payloads, ctx, signed, earlier } = await signedOrders(1000, 8)
    const pool = new SignaturePool()
    const prefix = digestPrefix(ctx.chainId, ctx.settlement)
    const pooled: IntakeContext = { ...ctx, recoverOrder: (order, signature) => pool.recoverOrder(order, signature, prefix) }
    await validateAll(earlier, pooled)
    // Median of five passes: a pass is 8,000 orders, well under a second, so one GC pause or VM
    // hiccup would swing a single one.
    const passes: number[] = []
    for (let i = 0; i < 5; i++) passes.push(await validateAll(payloads, pooled))
    const validatePerS = passes.sort((a, b) => a - b)[2]!
    await pool.close()
    // First contact: a fresh pool that has never seen these agents recovers every signature.
    const coldPool = new SignaturePool()
    const coldPerS = await validateAll(payloads, { ...ctx, recoverOrder: (order, signature) => coldPool.recoverOrder(order, signature, prefix) })
    await coldPool.close()
    let start = performance.now()
    for (const p of payloads.slice(0, 1000)) await validateOrderPayload(p.payload, p.agentId, ctx)
    const singleThreadPerS = Math.round(1000 / ((performance.now() - start) / 1000))
    const recoverCeilingPerS = await nativeRecoverOnAllCores(signed.slice(0, 4000), ctx)
    start = performance.now()
    for (const s of signed.slice(0, 500)) await recoverTypedDataAddress({ domain: orderDomain(ctx.chainId, ctx.settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(s.order), signature: s.signature })
    const viemPerS = Math.round(500 / ((performance.now() - start) / 1000))

    return {
      name: 'market',
      metrics: {
        clear_1m_orders_ms: clear1m.engineMs,
        // 1 when clear_*_orders_ms ran on the C engine (npm run build:native), 0 on the TypeScript one.
        clear_engine_native: engine.available ? 1 : 0,
        clear_1m_orders_typescript_engine_ms: clear1m.typeScriptMs,
        clear_1m_orders_with_objects_ms: clear1m.objectsMs,
        clear_10k_orders_ms: clear10k.engineMs,
        clear_10k_orders_typescript_engine_ms: clear10k.typeScriptMs,
        clear_10k_orders_with_objects_ms: clear10k.objectsMs,
        validate_orders_per_s: validatePerS,
        validate_orders_per_s_first_contact: coldPerS,
        validate_orders_per_s_one_thread: singleThreadPerS,
      },
      baseline: {
        name: 'viem recoverTypedDataAddress (validation); readable object engine reference-clearing.ts (clearing)',
        validate_orders_per_s: viemPerS,
        // What the CPU allows: native libsecp256k1 recovery and nothing else, on every core at once.
        native_recover_only_all_cores_per_s: recoverCeilingPerS,
        clear_1m_orders_ms: reference1m,
        clear_10k_orders_ms: reference10k,
      },
    }
  },
}

/** Clearing times: the columnar engine (with and without object conversion) and the readable reference. */
function clearingFigures() {
  const params = { intervalSeconds: 900, pricing: 'pay-as-clear' as const }
  const workspace = new ClearingWorkspace()
  // The engine as the service and the simulator run it: columns in, columns out, one workspace.
  const clearing = (topology: Topology, book: NodeOrder[], runs: number) => {
    const tree = compileTopology(topology)
    const columns = orderColumns(book, tree)
    return {
      engineMs: medianMs(() => clearColumns(columns, tree, params, workspace), runs, 2),
      // The same engine in TypeScript, what a machine without a C compiler runs.
      typeScriptMs: medianMs(() => clearColumnsTypeScript(columns, tree, params, workspace), runs, 2),
      // With the order objects turned into columns and the trades back into objects.
      objectsMs: medianMs(() => clearHierarchical(book, topology, params), runs, 1),
    }
  }
  const big = suburbTopology(20, 50)
  const bigBook = randomBook(1_000_000, big, 1)
  const clear1m = clearing(big, bigBook, 5)
  const reference1m = medianMs(() => clearHierarchicalReference(bigBook, big, params), 1, 0)
  const small = suburbTopology(1, 10)
  const smallBook = randomBook(10_000, small, 2)
  const clear10k = clearing(small, smallBook, 31)
  const reference10k = medianMs(() => clearHierarchicalReference(smallBook, small, params), 15, 3)
  return { clear1m, reference1m, clear10k, reference10k }
}

/** Signatures recovered per second by bare libsecp256k1 `ecdsaRecover` calls on one worker per core. */
async function nativeRecoverOnAllCores(signed: SignedOrder[], ctx: IntakeContext): Promise<number> {
  const digest = orderDigester(ctx.chainId, ctx.settlement)
  const digests = signed.map((s) => digest(s.order))
  const signatures = signed.map((s) => Buffer.from(s.signature.slice(2), 'hex'))
  const secp256k1Path = createRequire(import.meta.url).resolve('secp256k1')
  const code = `const { parentPort, workerData } = require('node:worker_threads')
    const secp256k1 = require(workerData.secp256k1Path)
    parentPort.once('message', () => {
      for (let i = 0; i < workerData.digests.length; i++) secp256k1.ecdsaRecover(workerData.signatures[i].subarray(0, 64), workerData.signatures[i][64] - 27, workerData.digests[i], false)
      parentPort.postMessage('done')
    })
    parentPort.postMessage('ready')`
  const workers = Array.from({ length: availableParallelism() }, () => new Worker(code, { eval: true, workerData: { secp256k1Path, digests, signatures } }))
  await Promise.all(workers.map((w) => once(w, 'message')))
  const start = performance.now()
  workers.forEach((w) => w.postMessage('go'))
  await Promise.all(workers.map((w) => once(w, 'message')))
  const perS = Math.round((workers.length * signed.length) / ((performance.now() - start) / 1000))
  await Promise.all(workers.map((w) => w.terminate()))
  return perS
}

/** Orders validated per second when they stream in as from MQTT: 1,024 in flight, the next as soon as one is done. */
async function validateAll(payloads: { agentId: string; payload: string }[], ctx: IntakeContext): Promise<number> {
  const start = performance.now()
  let next = 0
  const lane = async () => {
    while (next < payloads.length) {
      const p = payloads[next++]!
      const verdict = await validateOrderPayload(p.payload, p.agentId, ctx)
      if (!verdict.ok) throw new Error(`benchmark order rejected: ${verdict.reason}`)
    }
  }
  await Promise.all(Array.from({ length: 1024 }, lane))
  return Math.round(payloads.length / ((performance.now() - start) / 1000))
}

/** `agents` agents with a curve of `perAgent` orders each (sent together), and one earlier order each. */
async function signedOrders(agents: number, perAgent: number) {
  const accounts = Array.from({ length: agents }, () => privateKeyToAccount(generatePrivateKey()))
  const settlement = '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address
  const ctx: IntakeContext = {
    communityKey: communityKey('bench'),
    openInterval: 1_800_000_000,
    chainId: 31337,
    settlement,
    priceFloor: 0,
    priceCap: 1_000_000,
    maxOrderWh: 1_000_000,
    addressOf: (agentId) => accounts[Number(agentId.slice(1))]?.address,
  }
  const sign = async (k: number, nonce: number) => {
    const s = await signOrder(accounts[k]!, { owner: accounts[k]!.address, community: ctx.communityKey, interval: ctx.openInterval, side: (nonce % 2) as 0 | 1, energyWh: 100 + nonce, limitPrice: 100_000, nonce }, ctx.chainId, settlement)
    return { signed: s, payload: { agentId: `a${k}`, payload: JSON.stringify(s) } }
  }
  const current = []
  for (let i = 0; i < agents * perAgent; i++) current.push(await sign(Math.floor(i / perAgent), i))
  const earlier = []
  for (let k = 0; k < agents; k++) earlier.push((await sign(k, agents * perAgent + k)).payload)
  return { payloads: current.map((c) => c.payload), signed: current.map((c) => c.signed), ctx, earlier }
}
