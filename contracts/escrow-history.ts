import { createPublicClient, http, type Address, type Hex } from 'viem'
import { chainFor, type Deployment } from './deploy.ts'
import { energySettlementAbi } from './generated/artifacts.ts'
import type { SettledIntervals } from './settled-intervals.ts'

/** One movement of an owner's escrow, from the contract's events. Amounts in base units, signed. */
export interface EscrowEntry {
  kind: 'deposit' | 'withdrawal_requested' | 'withdrawal' | 'settlement' | 'imbalance_charge'
  blockNumber: number
  tx: Hex
  /** What the entry moved (a request moves nothing yet: its requested amount, as a positive number). */
  amount: string
  /** The interval, for a settlement or an imbalance charge. */
  interval?: number
}

export interface EscrowHistory {
  owner: Address
  balance: string
  pendingWithdrawal: { amount: string; withdrawableAt: number } | null
  /** Newest first. A settlement's amount already includes its imbalance charges, which are listed too. */
  entries: EscrowEntry[]
}

/**
 * An owner's escrow rebuilt from the settlement contract's events, for the dashboard's My home:
 * deposits, withdrawal requests and withdrawals, its net change in each settled interval (from
 * `IntervalSettled.balanceChanges`, from `settled`, which reads each block once for every owner) and
 * the imbalance charges it paid or received inside them. The owner's own events are found by their
 * indexed topics.
 */
export async function escrowHistory(rpcUrl: string, deployment: Pick<Deployment, 'chainId' | 'settlement'>, owner: Address, settled: SettledIntervals): Promise<EscrowHistory> {
  const client = createPublicClient({ chain: chainFor(deployment.chainId, rpcUrl), transport: http(rpcUrl) })
  const address = deployment.settlement
  const range = { address, abi: energySettlementAbi, fromBlock: 'earliest' as const }
  const [deposits, requests, withdrawals, settledChanges, chargedAsSeller, chargedAsBuyer, account, pending] = await Promise.all([
    client.getContractEvents({ ...range, eventName: 'Deposited', args: { owner } }),
    client.getContractEvents({ ...range, eventName: 'WithdrawalRequested', args: { owner } }),
    client.getContractEvents({ ...range, eventName: 'Withdrawn', args: { owner } }),
    settled.changesOf(owner),
    client.getContractEvents({ ...range, eventName: 'ImbalanceCharged', args: { seller: owner } }),
    client.getContractEvents({ ...range, eventName: 'ImbalanceCharged', args: { buyer: owner } }),
    client.readContract({ address, abi: energySettlementAbi, functionName: 'accounts', args: [owner] }),
    client.readContract({ address, abi: energySettlementAbi, functionName: 'pendingWithdrawal', args: [owner] }),
  ])
  const entries: EscrowEntry[] = []
  const at = (log: { blockNumber: bigint; transactionHash: Hex }) => ({ blockNumber: Number(log.blockNumber), tx: log.transactionHash })
  for (const log of deposits) entries.push({ kind: 'deposit', ...at(log), amount: log.args.amount!.toString() })
  for (const log of requests) entries.push({ kind: 'withdrawal_requested', ...at(log), amount: log.args.amount!.toString() })
  for (const log of withdrawals) entries.push({ kind: 'withdrawal', ...at(log), amount: (-log.args.amount!).toString() })
  for (const c of settledChanges) entries.push({ kind: 'settlement', blockNumber: c.blockNumber, tx: c.tx, amount: c.change.toString(), interval: c.interval })
  for (const log of chargedAsSeller) entries.push({ kind: 'imbalance_charge', ...at(log), amount: (-log.args.charged!).toString(), interval: settled.intervalOf(log.transactionHash) })
  for (const log of chargedAsBuyer) entries.push({ kind: 'imbalance_charge', ...at(log), amount: log.args.charged!.toString(), interval: settled.intervalOf(log.transactionHash) })
  entries.sort((a, b) => b.blockNumber - a.blockNumber)
  const [balance, , withdrawableAt] = account
  return {
    owner,
    balance: balance.toString(),
    pendingWithdrawal: withdrawableAt === 0 ? null : { amount: pending.toString(), withdrawableAt: Number(withdrawableAt) },
    entries,
  }
}
