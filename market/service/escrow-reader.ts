import { createPublicClient, http, type Address } from 'viem'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'

/** An owner's account as order intake needs it. */
export interface EscrowAccount {
  /** Balance less any requested withdrawal (that money leaves once the delay has passed, so it cannot stand behind a new order). */
  available: bigint
  /** Orders with a lower nonce were cancelled on chain (`cancelUpTo`) and can never settle. */
  minNonce: bigint
}

/**
 * Reads owners' escrow accounts for order intake. Cached until the next interval or settlement;
 * deposits and on-chain cancellations show up by the next interval (and settlement checks both again).
 */
export class EscrowReader {
  private readonly client
  private readonly cache = new Map<string, Promise<EscrowAccount>>()

  constructor(
    rpcUrl: string,
    private readonly deployment: Deployment,
  ) {
    this.client = createPublicClient({ chain: chainFor(deployment.chainId, rpcUrl), transport: http(rpcUrl) })
  }

  account(owner: Address): Promise<EscrowAccount> {
    const key = owner.toLowerCase()
    let cached = this.cache.get(key)
    if (!cached) {
      // The promise is cached, so concurrent orders of one owner share one read.
      cached = this.read(owner)
      cached.catch(() => this.cache.delete(key))
      this.cache.set(key, cached)
    }
    return cached
  }

  private async read(owner: Address): Promise<EscrowAccount> {
    const address = this.deployment.settlement
    const [[balance, minNonce], leaving] = await Promise.all([
      this.client.readContract({ address, abi: energySettlementAbi, functionName: 'accounts', args: [owner] }),
      this.client.readContract({ address, abi: energySettlementAbi, functionName: 'pendingWithdrawal', args: [owner] }),
    ])
    return { available: balance > leaving ? balance - leaving : 0n, minNonce: BigInt(minNonce) }
  }

  invalidate(): void {
    this.cache.clear()
  }
}
