import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, encodeFunctionData, http, nonceManager, parseEventLogs, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Address } from 'viem'
import { encodeCarried, encodeSettlementBatch, settlementAccessList, type SettlementBatch } from './settlement-batch.ts'
import type { SimulationVerdict } from './settlement-planner.ts'

export interface SettlementOutcome {
  status: 'settled' | 'failed'
  tx: Hex | null
  error: string | null
  shortfalls?: NonNullable<IntervalResult['settlement']['shortfalls']>
  receipt?: NonNullable<IntervalResult['settlement']['receipt']>
}

export interface RetryPolicy {
  /** First wait after a failed RPC call; doubled after each further failure. */
  firstDelayMs: number
  maxDelayMs: number
  /** Attempts in one `settle` call; the market tries again at its next gate closure. */
  attempts: number
}

const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 500, maxDelayMs: 30_000, attempts: 8 }
/** Head-room over the node's gas estimate, in percent: state can move between estimate and inclusion. */
const GAS_MARGIN_PCT = 20n
const RECEIPT_TIMEOUT_MS = 120_000

/** A revert is the contract's verdict on the batch: sending it again cannot change it. */
class Reverted extends Error {}

/**
 * A part of an interval settled in several transactions that is not its last (`settleIntervalPart`),
 * with the owners that continue into later parts. Without one, a batch is the whole interval or its
 * last part (`settleInterval`).
 */
export interface EarlierPart {
  carried: readonly Address[]
}

/**
 * Submits one `settleInterval` batch per interval from the operator key.
 * - Idempotent: an interval the contract already marks settled is reported settled, with the
 *   transaction that settled it, and nothing is sent.
 * - Survives RPC failures: any error that is not a revert is retried with capped exponential back-off.
 * - Survives restarts: `onSubmitted` hears the transaction hash before its receipt is awaited, so the
 *   caller can store it and pass it back as `knownTx`; a known transaction is awaited, never re-sent
 *   while it may still be mined.
 * - Gas is estimated with a margin, the account slots go in an EIP-2930 access list, and nonces
 *   come from viem's nonce manager.
 */
export class SettlementSubmitter {
  private readonly publicClient
  private readonly wallet
  private readonly retry: RetryPolicy

  constructor(
    private readonly rpcUrl: string,
    private readonly deployment: Deployment,
    operatorKey: Hex,
    private readonly options: { retry?: Partial<RetryPolicy>; logger?: Logger } = {},
  ) {
    const chain = chainFor(deployment.chainId, rpcUrl)
    // retryCount 0: the back-off here decides, not a second layer of retries under it.
    const transport = http(rpcUrl, { retryCount: 0, timeout: 10_000 })
    this.publicClient = createPublicClient({ chain, transport, pollingInterval: 250 })
    this.wallet = createWalletClient({ account: privateKeyToAccount(operatorKey, { nonceManager }), chain, transport })
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
  }

  async settle(
    communityKey: Hex,
    interval: number,
    batch: SettlementBatch,
    hooks: { knownTx?: Hex | null; onSubmitted?: (tx: Hex) => void } = {},
    part?: EarlierPart,
  ): Promise<SettlementOutcome> {
    let knownTx = hooks.knownTx ?? null
    let lastError = 'no attempt made'
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(this.retry.maxDelayMs, this.retry.firstDelayMs * 2 ** (attempt - 1)))
      try {
        // Only the last part closes an interval: an earlier part's own transaction is its record.
        if (!part && (await this.isSettled(communityKey, interval))) {
          const tx = knownTx ?? (await this.settlingTx(communityKey, interval))
          return tx ? await this.settled(tx, batch) : { status: 'settled', tx: null, error: null }
        }
        if (knownTx) {
          // Sent before a restart or an outage: if it is not mined yet, wait for it rather than send
          // twice. (A mined part of an interval settled in parts does not show in isSettled.)
          const receipt =
            (await this.publicClient.getTransactionReceipt({ hash: knownTx }).catch(() => null)) ??
            (await this.publicClient.waitForTransactionReceipt({ hash: knownTx, timeout: RECEIPT_TIMEOUT_MS }))
          if (receipt.status === 'success') return await this.settled(knownTx, batch)
          knownTx = null // reverted: build and send it afresh
        }
        const tx = await this.send(communityKey, interval, batch, part)
        knownTx = tx
        hooks.onSubmitted?.(tx)
        const receipt = await this.publicClient.waitForTransactionReceipt({ hash: tx, timeout: RECEIPT_TIMEOUT_MS })
        if (receipt.status !== 'success') throw new Reverted(`settlement transaction ${tx} reverted`)
        return await this.settled(tx, batch)
      } catch (error) {
        if (error instanceof Reverted) return { status: 'failed', tx: knownTx, error: error.message }
        lastError = describe(error)
        this.options.logger?.warn({ interval, attempt: attempt + 1, err: lastError }, 'settlement: RPC failed; retrying')
      }
    }
    return { status: 'failed', tx: knownTx, error: `gave up after ${this.retry.attempts} attempts: ${lastError}` }
  }

  /**
   * What the contract would say to this batch now, without sending it: success, or its custom error.
   * Run against the pending block, whose timestamp is the chain's now (the latest block's may be
   * minutes old on a quiet chain). RPC failures throw.
   */
  async simulate(communityKey: Hex, interval: number, batch: SettlementBatch, part?: EarlierPart): Promise<SimulationVerdict> {
    try {
      await this.simulateCall(settlementCall(communityKey, interval, batch, part))
      return { ok: true }
    } catch (error) {
      const revert = error instanceof BaseError ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null
      if (revert?.data?.errorName) return { ok: false, errorName: revert.data.errorName, args: revert.data.args ?? [] }
      throw error
    }
  }

  isSettled(communityKey: Hex, interval: number): Promise<boolean> {
    return this.publicClient.readContract({ address: this.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [communityKey, BigInt(interval)] })
  }

  /** The transaction that settled an interval, from its `IntervalSettled` event. */
  private async settlingTx(communityKey: Hex, interval: number): Promise<Hex | null> {
    const logs = await this.publicClient.getContractEvents({
      address: this.deployment.settlement,
      abi: energySettlementAbi,
      eventName: 'IntervalSettled',
      args: { community: communityKey, interval: BigInt(interval) },
      fromBlock: 'earliest',
    })
    // An interval settled in parts has one event per part; the last closed it.
    return logs.at(-1)?.transactionHash ?? null
  }

  /** Runs the call as the operator on the pending block; a revert throws with the contract's error decoded. */
  private async simulateCall(call: ReturnType<typeof settlementCall>): Promise<void> {
    const common = { account: this.wallet.account, address: this.deployment.settlement, blockTag: 'pending' } as const
    if (call.functionName === 'settleIntervalPart') await this.publicClient.simulateContract({ ...common, ...call })
    else await this.publicClient.simulateContract({ ...common, ...call })
  }

  /** The chain's current block gas limit: what one settlement transaction can never exceed. */
  async blockGasLimit(): Promise<bigint> {
    return (await this.publicClient.getBlock({ blockTag: 'pending' })).gasLimit
  }

  private async send(communityKey: Hex, interval: number, batch: SettlementBatch, part?: EarlierPart): Promise<Hex> {
    const address = this.deployment.settlement
    const call = settlementCall(communityKey, interval, batch, part)
    const data = encodeFunctionData(call)
    const accessList = settlementAccessList(batch, address, this.deployment.feeRecipient)
    const account = this.wallet.account
    try {
      // A revert here is the contract's verdict (decoded with the ABI); anything else is the RPC's.
      await this.simulateCall(call)
      const gas = await this.publicClient.estimateGas({ account, to: address, data, accessList, blockTag: 'pending' })
      // The margin never past the block: a transaction above the block's gas limit is never mined.
      const limit = await this.blockGasLimit()
      const withMargin = gas + (gas * GAS_MARGIN_PCT) / 100n
      return await this.wallet.sendTransaction({ to: address, data, accessList, gas: withMargin < limit ? withMargin : limit })
    } catch (error) {
      if (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError)) throw new Reverted(describe(error))
      throw error
    }
  }

  /** The outcome of a mined settlement: its receipt, and the sellers that fell short with what they paid, from its `ImbalanceCharged` events. */
  private async settled(tx: Hex, batch: SettlementBatch): Promise<SettlementOutcome> {
    const receipt = await this.publicClient.getTransactionReceipt({ hash: tx })
    const short = new Map<string, { shortfallWh: number; charged: bigint }>()
    for (const log of parseEventLogs({ abi: energySettlementAbi, eventName: 'ImbalanceCharged', logs: receipt.logs })) {
      const seller = log.args.seller.toLowerCase()
      const s = short.get(seller) ?? { shortfallWh: 0, charged: 0n }
      s.shortfallWh += Number(log.args.shortfallWh)
      s.charged += log.args.charged
      short.set(seller, s)
    }
    const soldWh = new Map<string, { owner: Hex; wh: number }>()
    for (const f of batch.fills.filter((f) => f.side === 1)) {
      const sold = soldWh.get(f.owner.toLowerCase()) ?? { owner: f.owner, wh: 0 }
      sold.wh += Number(f.filledWh)
      soldWh.set(f.owner.toLowerCase(), sold)
    }
    const shortfalls = [...short].map(([seller, s]) => {
      const sold = soldWh.get(seller)!
      return { seller: sold.owner, soldWh: sold.wh, deliveredWh: sold.wh - s.shortfallWh, charged: String(s.charged) }
    })
    return { status: 'settled', tx, error: null, shortfalls, receipt: { blockNumber: Number(receipt.blockNumber), gasUsed: Number(receipt.gasUsed) } }
  }
}

/** The contract call for a batch: `settleIntervalPart` for an earlier part, `settleInterval` otherwise. */
function settlementCall(communityKey: Hex, interval: number, batch: SettlementBatch, part?: EarlierPart) {
  const [fills, trades, readings] = encodeSettlementBatch(batch)
  return part
    ? ({ abi: energySettlementAbi, functionName: 'settleIntervalPart', args: [communityKey, BigInt(interval), fills, trades, readings, encodeCarried(part.carried)] } as const)
    : ({ abi: energySettlementAbi, functionName: 'settleInterval', args: [communityKey, BigInt(interval), fills, trades, readings] } as const)
}

function describe(error: unknown): string {
  if (error instanceof BaseError) {
    // A revert is named by the contract's error and its arguments, e.g. PriceOutsideLimit(1).
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (revert?.data) return `reverted: ${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(', ')})`
    return error.shortMessage
  }
  return error instanceof Error ? error.message : String(error)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
