import { createPublicClient, createWalletClient, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { orderMessage } from '../../protocol/order.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { OrderFill } from '../engine/clearing.ts'
import type { StoredOrder } from './market-store.ts'

export interface SettlementOutcome {
  status: 'settled' | 'failed'
  tx: Hex | null
  error: string | null
}

/**
 * Submits one `settleInterval` batch per interval from the operator key. Idempotent: an interval the
 * contract already marks settled is reported settled without sending anything.
 */
export class SettlementSubmitter {
  private readonly publicClient
  private readonly wallet

  constructor(
    private readonly rpcUrl: string,
    private readonly deployment: Deployment,
    operatorKey: Hex,
  ) {
    const chain = chainFor(deployment.chainId, rpcUrl)
    const transport = http(rpcUrl)
    this.publicClient = createPublicClient({ chain, transport })
    this.wallet = createWalletClient({ account: privateKeyToAccount(operatorKey), chain, transport })
  }

  async settle(communityKey: Hex, interval: number, fills: OrderFill[], orders: Map<string, StoredOrder>): Promise<SettlementOutcome> {
    const address = this.deployment.settlement
    try {
      const already = await this.publicClient.readContract({ address, abi: energySettlementAbi, functionName: 'intervalSettled', args: [communityKey, BigInt(interval)] })
      if (already) return { status: 'settled', tx: null, error: null }
      const batch = fills.map((f) => {
        const stored = orders.get(f.hash)
        if (!stored) throw new Error(`fill for unknown order ${f.hash}`)
        return { order: orderMessage(stored.signed.order), signature: stored.signed.signature, filledWh: BigInt(f.filledWh), price: BigInt(f.price) }
      })
      const { request } = await this.publicClient.simulateContract({
        account: this.wallet.account,
        address,
        abi: energySettlementAbi,
        functionName: 'settleInterval',
        args: [communityKey, BigInt(interval), batch],
      })
      const tx = await this.wallet.writeContract(request)
      const receipt = await this.publicClient.waitForTransactionReceipt({ hash: tx })
      if (receipt.status !== 'success') return { status: 'failed', tx, error: 'settlement transaction reverted' }
      return { status: 'settled', tx, error: null }
    } catch (error) {
      const message = error instanceof Error ? (error as { shortMessage?: string }).shortMessage ?? error.message : String(error)
      return { status: 'failed', tx: null, error: message }
    }
  }
}

export type { IntervalResult }
