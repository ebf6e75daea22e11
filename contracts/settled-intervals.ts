import { createPublicClient, http, type Address, type Hex } from 'viem'
import { decodeBalanceChanges } from './balance-changes.ts'
import { chainFor, type Deployment } from './deploy.ts'
import { energySettlementAbi } from './generated/artifacts.ts'

/** One owner's net escrow change in one settled interval (one `IntervalSettled` event). */
export interface SettledChange {
  interval: number
  blockNumber: number
  tx: Hex
  change: bigint
}

/** Blocks per log query: under the range limit of most public RPC endpoints. */
const BLOCKS_PER_QUERY = 10_000n

/**
 * Every `IntervalSettled` event of one settlement contract, indexed by owner and read incrementally:
 * each call reads only the blocks since the last one, so an escrow history costs the same on the
 * thousandth interval as on the first. (IntervalSettled names its owners inside `balanceChanges`, not
 * as indexed topics, so the chain cannot filter them for us.) Blocks are read up to `latest`: fine on
 * a chain with instant finality (the local chain, most L2s); a reorg-prone chain would need a
 * confirmation depth here.
 */
export class SettledIntervals {
  private readonly client
  private readonly byOwner = new Map<string, SettledChange[]>()
  private readonly intervalOfTx = new Map<Hex, number>()
  private scannedTo = -1n
  private refreshing: Promise<void> | undefined

  constructor(
    rpcUrl: string,
    private readonly deployment: Pick<Deployment, 'chainId' | 'settlement'>,
  ) {
    this.client = createPublicClient({ chain: chainFor(deployment.chainId, rpcUrl), transport: http(rpcUrl) })
  }

  /** `owner`'s changes, oldest first, up to the chain's latest block. */
  async changesOf(owner: Address): Promise<readonly SettledChange[]> {
    await this.refresh()
    return this.byOwner.get(owner.toLowerCase()) ?? []
  }

  /** The interval a settlement transaction settled (for the imbalance charges emitted inside it). */
  intervalOf(tx: Hex): number | undefined {
    return this.intervalOfTx.get(tx)
  }

  /** How many blocks have been read so far (for tests and metrics). */
  get scannedBlocks(): bigint {
    return this.scannedTo + 1n
  }

  private refresh(): Promise<void> {
    // Concurrent requests share one read of the new blocks.
    this.refreshing ??= this.readNewBlocks().finally(() => (this.refreshing = undefined))
    return this.refreshing
  }

  private async readNewBlocks(): Promise<void> {
    // viem caches the block number for its polling interval: a history must include the block just mined.
    const latest = await this.client.getBlockNumber({ cacheTime: 0 })
    while (this.scannedTo < latest) {
      const fromBlock = this.scannedTo + 1n
      const toBlock = fromBlock + BLOCKS_PER_QUERY - 1n < latest ? fromBlock + BLOCKS_PER_QUERY - 1n : latest
      const logs = await this.client.getContractEvents({ address: this.deployment.settlement, abi: energySettlementAbi, eventName: 'IntervalSettled', fromBlock, toBlock })
      for (const log of logs) {
        const interval = Number(log.args.interval)
        this.intervalOfTx.set(log.transactionHash, interval)
        const net = new Map<string, bigint>()
        for (const { owner, change } of decodeBalanceChanges(log.args.balanceChanges!)) {
          const key = owner.toLowerCase()
          net.set(key, (net.get(key) ?? 0n) + change)
        }
        for (const [owner, change] of net) {
          let list = this.byOwner.get(owner)
          if (!list) this.byOwner.set(owner, (list = []))
          list.push({ interval, blockNumber: Number(log.blockNumber), tx: log.transactionHash, change })
        }
      }
      // Only after the range is in: a failed read is tried again from the same block next time.
      this.scannedTo = toBlock
    }
  }
}
