import { createPublicClient, http, type Address } from 'viem'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'

/**
 * Reads what of an owner's escrow can back new buys: its balance less any withdrawal it has requested
 * (that money leaves once the withdrawal delay has passed, so it cannot stand behind a new order).
 * Cached until the next interval or settlement; deposits show up by the next interval.
 */
export class EscrowReader {
  private readonly client
  private readonly cache = new Map<string, bigint>()

  constructor(
    rpcUrl: string,
    private readonly deployment: Deployment,
  ) {
    this.client = createPublicClient({ chain: chainFor(deployment.chainId, rpcUrl), transport: http(rpcUrl) })
  }

  async balanceOf(owner: Address): Promise<bigint> {
    const key = owner.toLowerCase()
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    const read = (functionName: 'balanceOf' | 'pendingWithdrawal') => this.client.readContract({ address: this.deployment.settlement, abi: energySettlementAbi, functionName, args: [owner] })
    const [balance, leaving] = await Promise.all([read('balanceOf'), read('pendingWithdrawal')])
    const available = balance > leaving ? balance - leaving : 0n
    this.cache.set(key, available)
    return available
  }

  invalidate(): void {
    this.cache.clear()
  }
}
