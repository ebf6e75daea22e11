import { createPublicClient, http, type Address } from 'viem'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'

/**
 * Reads owners' escrow balances from the settlement contract, cached until the next interval or
 * settlement (when balances can change through the market); deposits show up by the next interval.
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
    const balance = await this.client.readContract({ address: this.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner] })
    this.cache.set(key, balance)
    return balance
  }

  invalidate(): void {
    this.cache.clear()
  }
}
