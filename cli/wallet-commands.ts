import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { privateKeyToAccount } from 'viem/accounts'
import type { Address, Hex } from 'viem'
import { EscrowWallet, type WalletStatus } from '../contracts/wallet.ts'
import { agentConfigSchema } from '../edge-agent/agent-config.ts'
import { fetchOwnEscrow, type OwnEscrow } from '../edge-agent/escrow-client.ts'
import { loadConfigFile } from '../platform/config-file.ts'
import { VppError } from '../protocol/errors.ts'
import { addressSchema } from '../protocol/order.ts'
import { formatTokenAmount, parseTokenAmount } from '../protocol/units.ts'
import { parseOptions } from './parse-options.ts'

const walletOptions = z.object({
  config: z.string({ message: 'is required: the home’s agent.yaml (its key, chain and market)' }),
  rpc: z.url().optional(),
  settlement: addressSchema.optional(),
  json: z.boolean().default(false),
})

/** The home's key, chain and market from agent.yaml; --rpc and --settlement override the file's. */
async function openWallet(raw: Record<string, unknown>) {
  const o = parseOptions(walletOptions.passthrough(), raw)
  const config = loadConfigFile(o.config, agentConfigSchema)
  const rpcUrl = o.rpc ?? config.chain?.rpcUrl
  const settlement = (o.settlement ?? config.chain?.settlement) as Address | undefined
  if (!rpcUrl || !settlement) {
    throw new VppError('VPP_ERR_CONFIG', `${o.config} has no chain: add chain: { rpcUrl: …, settlement: 0x… } (the market's /api/market shows the settlement address), or give --rpc and --settlement`)
  }
  const key = readFileSync(config.keyFile, 'utf8').trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new VppError('VPP_ERR_CONFIG', `${config.keyFile} (keyFile) must hold the agent's 0x-prefixed private key`)
  return { wallet: await EscrowWallet.open(rpcUrl, settlement, key as Hex), key: key as Hex, marketUrl: config.marketUrl, json: o.json }
}

/** What the home's open orders and unsettled trades hold, and what is free, asked of the market with a query signed by the home's key. */
async function holds(marketUrl: string | undefined, key: Hex): Promise<OwnEscrow | string> {
  if (!marketUrl) return 'unknown (add marketUrl to agent.yaml to see what open orders hold)'
  return fetchOwnEscrow(marketUrl, privateKeyToAccount(key)).catch((error: Error) => `unknown (${error.message})`)
}

function report(status: WalletStatus, held: OwnEscrow | string, json: boolean): void {
  const amount = (base: bigint) => `${formatTokenAmount(base, status.decimals)} ${status.symbol}`
  if (json) {
    console.log(
      JSON.stringify(
        {
          owner: status.owner,
          token: status.token,
          symbol: status.symbol,
          decimals: status.decimals,
          walletBaseUnits: status.walletBaseUnits.toString(),
          escrowBaseUnits: status.escrowBaseUnits.toString(),
          pendingWithdrawal: status.pendingWithdrawal && { baseUnits: status.pendingWithdrawal.baseUnits.toString(), withdrawableAt: status.pendingWithdrawal.withdrawableAt },
          reserved: typeof held === 'string' ? null : { openOrdersBaseUnits: held.openOrders.toString(), unsettledTradesBaseUnits: held.unsettledTrades.toString(), freeBaseUnits: held.free.toString() },
        },
        null,
        2,
      ),
    )
    return
  }
  console.log(`Home ${status.owner}`)
  console.log(`  Escrow:   ${amount(status.escrowBaseUnits)}`)
  if (typeof held !== 'string') {
    console.log(`  Reserved: ${amount(held.openOrders)} by open orders, ${amount(held.unsettledTrades)} by trades not yet settled`)
    console.log(`  Free:     ${amount(held.free)} for new bids and offers`)
  } else console.log(`  Reserved: ${held}`)
  if (status.pendingWithdrawal) {
    console.log(`  Withdrawal requested: ${amount(status.pendingWithdrawal.baseUnits)}, can be taken from ${new Date(status.pendingWithdrawal.withdrawableAt * 1000).toISOString()} (vpp wallet withdraw --complete)`)
  }
  console.log(`  Wallet:   ${amount(status.walletBaseUnits)} (not in escrow)`)
}

/** `vpp wallet balance --config agent.yaml`: escrow, what it holds for, a pending withdrawal, and the wallet. */
export async function walletBalanceCommand(raw: Record<string, unknown>): Promise<void> {
  const { wallet, key, marketUrl, json } = await openWallet(raw)
  report(await wallet.status(), await holds(marketUrl, key), json)
}

/** `vpp wallet deposit 25.00 --config agent.yaml`: one permit signature and one transaction. */
export async function walletDepositCommand(amountText: string, raw: Record<string, unknown>): Promise<void> {
  const { wallet, key, marketUrl, json } = await openWallet(raw)
  const before = await wallet.status()
  const amount = tokenAmount(amountText, before)
  const tx = await wallet.deposit(amount)
  if (!json) console.log(`Deposited ${formatTokenAmount(amount, before.decimals)} ${before.symbol} (tx ${tx}).`)
  report(await wallet.status(), await holds(marketUrl, key), json)
}

/**
 * `vpp wallet withdraw 10.00 --config agent.yaml` requests a withdrawal; `vpp wallet withdraw --complete`
 * takes it once the contract's delay has passed.
 */
export async function walletWithdrawCommand(amountText: string | undefined, raw: Record<string, unknown>): Promise<void> {
  const { complete } = z.object({ complete: z.boolean().default(false) }).parse({ complete: raw.complete })
  const { wallet, key, marketUrl, json } = await openWallet(raw)
  const before = await wallet.status()
  if (complete) {
    if (amountText) throw new VppError('VPP_ERR_CONFIG', 'give either an amount (to request a withdrawal) or --complete (to take it), not both')
    const tx = await wallet.completeWithdrawal()
    if (!json) console.log(`Withdrawn to ${before.owner} (tx ${tx}).`)
  } else {
    if (!amountText) throw new VppError('VPP_ERR_CONFIG', 'give the amount to withdraw, e.g. vpp wallet withdraw 10.00, or --complete to take a requested one')
    const amount = tokenAmount(amountText, before)
    if (amount > before.escrowBaseUnits) {
      throw new VppError('VPP_ERR_CONFIG', `escrow holds ${formatTokenAmount(before.escrowBaseUnits, before.decimals)} ${before.symbol}, less than the ${amountText} ${before.symbol} asked for`)
    }
    const { tx, withdrawableAt } = await wallet.requestWithdrawal(amount)
    if (!json) console.log(`Withdrawal of ${formatTokenAmount(amount, before.decimals)} ${before.symbol} requested (tx ${tx}); take it from ${new Date(withdrawableAt * 1000).toISOString()} with vpp wallet withdraw --complete.`)
  }
  report(await wallet.status(), await holds(marketUrl, key), json)
}

function tokenAmount(text: string, status: WalletStatus): bigint {
  try {
    return parseTokenAmount(text, status.decimals)
  } catch (error) {
    throw new VppError('VPP_ERR_CONFIG', `${(error as Error).message} (${status.symbol} has ${status.decimals} decimals)`)
  }
}
