import { createPublicClient, createWalletClient, hashTypedData, http, nonceManager, parseEther, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS, startAnvil } from '../../contracts/anvil.ts'
import { chainFor, deployContracts } from '../../contracts/deploy.ts'
import { batchTransferAbi, batchTransferBytecode, devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { buildSettlementBatch, encodeSettlementBatch, settlementAccessList } from '../../market/service/settlement-batch.ts'
import { communityKey, orderDomain, orderMessage, orderTypes } from '../../protocol/order.ts'
import type { Benchmark } from '../bench-result.ts'

/** EIP-7825's cap on one transaction's gas (Osaka): the largest batch must fit under it. */
const TX_GAS_CAP = 16_777_216
const BATCHES = (process.env.VPP_BENCH_BATCHES ? process.env.VPP_BENCH_BATCHES.split(",").map(Number) : [10, 100, 1000]) as readonly number[]

/**
 * Gas per filled order of `settleInterval` on anvil, at 10, 100 and 1000 fills: half sells, half buys,
 * every account distinct and already holding escrow (as in a running community), each seller with its
 * signed meter reading. Baseline in the same run: one plain ERC-20 `transferFrom` per trade, batched
 * in one transaction by a minimal contract, between the same kind of accounts.
 */
export const settlementBenchmark: Benchmark = {
  name: 'settlement',
  description: 'gas per filled order of settleInterval (with meter readings) vs. a plain ERC-20 transferFrom per trade',
  async run() {
    const anvil = await startAnvil()
    try {
      const chain = chainFor(anvil.chainId, anvil.rpcUrl)
      const transport = http(anvil.rpcUrl)
      const client = createPublicClient({ chain, transport })
      const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, community: 'bench-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: privateKeyToAccount(ANVIL_DEV_KEYS[1]).address })
      const operator = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0], { nonceManager }), chain, transport })
      const community = communityKey('bench-street')

      // Distinct accounts for every fill of every batch: cold storage, as in a real community.
      const keys = Array.from({ length: BATCHES.reduce((a, b) => a + b, 0) }, () => generatePrivateKey())
      console.log(`  funding ${keys.length} accounts…`)
      const batchTransfer = await deployBatchTransfer(operator, client)
      await fund(keys, deployment.token, deployment.settlement, batchTransfer, operator, client, anvil.rpcUrl, anvil.chainId)

      const metrics: Record<string, number> = {}
      const baseline: Record<string, number> = {}
      const gasByFills = new Map<number, number>()
      let used = 0
      // Intervals that have ended (the contract settles nothing earlier), within the settlement window.
      let interval = Math.floor(Date.now() / 1000 / 900) * 900 - 4 * 3600
      for (const fills of BATCHES) {
        interval += 900
        const accounts = keys.slice(used, used + fills)
        used += fills
        const pairs = fills / 2
        const signed = await Promise.all(
          accounts.map((key, i) => {
            const side = i < pairs ? 1 : 0
            const order = { owner: privateKeyToAccount(key).address, community, interval, side: side as 0 | 1, energyWh: 500, limitPrice: side === 1 ? 100_000 : 300_000, nonce: 1 }
            return signOrder(privateKeyToAccount(key), order, deployment.chainId, deployment.settlement)
          }),
        )
        const digest = (o: (typeof signed)[number]['order']) => hashTypedData({ domain: orderDomain(deployment.chainId, deployment.settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(o) })
        const orders = new Map(signed.map((s) => [digest(s.order) as string, { signed: s }]))
        // Seller k sells 480 Wh to buyer k: one trade per pair of fills.
        const trades = signed.slice(0, pairs).map((sell, k) => ({ sellOrder: digest(sell.order), buyOrder: digest(signed[pairs + k]!.order), node: 'street', energyWh: 480, price: 200_000, sellerPrice: 200_000 }))
        const readings = new Map(
          await Promise.all(
            accounts.slice(0, pairs).map(async (key) => {
              const owner = privateKeyToAccount(key).address
              const reading = await signMeterReading(privateKeyToAccount(key), { owner, community, interval, exportedWh: 480, importedWh: 0 }, deployment.chainId, deployment.settlement)
              return [owner.toLowerCase(), reading] as const
            }),
          ),
        )
        const batch = buildSettlementBatch(trades, orders, readings)
        // Sent as the market's submitter sends it: packed batch, access list of the account slots.
        const hash = await operator.writeContract({
          address: deployment.settlement,
          abi: energySettlementAbi,
          functionName: 'settleInterval',
          args: [community, BigInt(interval), ...encodeSettlementBatch(batch)],
          accessList: settlementAccessList(batch, deployment.settlement, deployment.feeRecipient),
          gas: BigInt(TX_GAS_CAP),
        })
        const receipt = await client.waitForTransactionReceipt({ hash })
        if (receipt.status !== 'success') throw new Error(`settlement of ${fills} fills reverted`)
        gasByFills.set(fills, Number(receipt.gasUsed))
        metrics[`gas_per_fill_${fills}`] = Math.round(Number(receipt.gasUsed) / fills)
        console.log(`  ${fills} fills settled: ${receipt.gasUsed} gas`)

        // Baseline: each buyer pays its seller with one transferFrom, as a naive settlement would.
        const from = accounts.slice(pairs).map((k) => privateKeyToAccount(k).address)
        const to = accounts.slice(0, pairs).map((k) => privateKeyToAccount(k).address)
        const amounts = from.map(() => 96_000n)
        const baseHash = await operator.writeContract({ address: batchTransfer, abi: batchTransferAbi, functionName: 'run', args: [deployment.token, from, to, amounts], gas: BigInt(TX_GAS_CAP) })
        const baseReceipt = await client.waitForTransactionReceipt({ hash: baseHash })
        // A trade is two fills here (a buy and a sell): per fill, the baseline's cost of a trade is halved.
        baseline[`gas_per_fill_${fills}`] = Math.round(Number(baseReceipt.gasUsed) / fills)
        baseline[`gas_per_trade_${fills}`] = Math.round(Number(baseReceipt.gasUsed) / pairs)
        metrics[`gas_per_trade_${fills}`] = Math.round(Number(receipt.gasUsed) / pairs)
      }
      // Gas grows linearly with fills: fit the two largest batches and see how many fit under the cap.
      const [small, large] = BATCHES.slice(-2) as [number, number]
      const perFill = (gasByFills.get(large)! - gasByFills.get(small)!) / (large - small)
      const fixed = gasByFills.get(large)! - perFill * large
      metrics.max_fills_per_tx = Math.floor((TX_GAS_CAP - fixed) / perFill)
      metrics.marginal_gas_per_fill = Math.round(perFill)
      return { name: 'settlement', metrics, baseline: { name: 'erc20-transferFrom-per-trade', ...baseline } }
    } finally {
      await anvil.stop()
    }
  },
}

async function deployBatchTransfer(operator: ReturnType<typeof createWalletClient>, client: ReturnType<typeof createPublicClient>): Promise<`0x${string}`> {
  const hash = await operator.deployContract({ abi: batchTransferAbi, bytecode: batchTransferBytecode, account: operator.account!, chain: operator.chain })
  const receipt = await client.waitForTransactionReceipt({ hash })
  return receipt.contractAddress!
}

/** Gas money, dev stablecoin, escrow in settlement and an allowance for the baseline, for every key. */
async function fund(
  keys: Hex[],
  token: `0x${string}`,
  settlement: `0x${string}`,
  batchTransfer: `0x${string}`,
  minter: ReturnType<typeof createWalletClient>,
  client: ReturnType<typeof createPublicClient>,
  rpcUrl: string,
  chainId: number,
): Promise<void> {
  const chain = chainFor(chainId, rpcUrl)
  const transport = http(rpcUrl)
  let last: Hex | undefined
  for (const key of keys) {
    const address = privateKeyToAccount(key).address
    await client.request({ method: 'anvil_setBalance' as never, params: [address, `0x${parseEther('1').toString(16)}`] as never })
    last = await minter.writeContract({ address: token, abi: devStablecoinAbi, functionName: 'mint', args: [address, 2_000_000_000n], account: minter.account!, chain })
  }
  await client.waitForTransactionReceipt({ hash: last! })
  const pending: Hex[] = []
  for (const key of keys) {
    const wallet = createWalletClient({ account: privateKeyToAccount(key, { nonceManager }), chain, transport })
    pending.push(await wallet.writeContract({ address: token, abi: devStablecoinAbi, functionName: 'approve', args: [settlement, 1_000_000_000n] }))
    pending.push(await wallet.writeContract({ address: token, abi: devStablecoinAbi, functionName: 'approve', args: [batchTransfer, 1_000_000_000n] }))
    pending.push(await wallet.writeContract({ address: settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1_000_000_000n] }))
  }
  for (const hash of pending.slice(-3)) {
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error('funding a bench account reverted')
  }
}
