import { afterAll, beforeAll, expect } from 'vitest'
import { createTestClient, createWalletClient, http, publicActions, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { communityKey } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from './chain.ts'
import { settlementKit } from './settlement.ts'

/** The community of the settlement contract tests. */
export const COMMUNITY_NAME = 'test-street'
export const community = communityKey(COMMUNITY_NAME)
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** The calling test file's chain and kit, set before its tests (live bindings: each test file has its own). */
export let chain: TestChain
export let kit: ReturnType<typeof settlementKit>

/**
 * A test file's own chain with the contracts deployed for `test-street` and four homes, each with
 * 1,000 dUSD (1e9 base units) in escrow, started before its tests (`chain`, `kit`) and stopped after;
 * and the helpers the settlement tests share.
 */
export function settlementContractSuite() {
  beforeAll(async () => {
    chain = await startTestChain(4, { community: COMMUNITY_NAME })
    kit = settlementKit(chain, community)
  })
  afterAll(async () => {
    await chain?.anvil.stop()
  })

  const keys = () => chain.homeKeys as [Hex, Hex, Hex, Hex]
  const walletOf = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) }).extend(publicActions)
  const testClient = () => createTestClient({ mode: 'anvil', chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })

  /** A new key with gas, and 10 dUSD in escrow: enough collateral for small sells. */
  async function fundedKey(): Promise<Hex> {
    const key = generatePrivateKey()
    await testClient().setBalance({ address: kit.address(key), value: 10n ** 18n })
    const minter = walletOf(ANVIL_DEV_KEYS[0])
    const wallet = walletOf(key)
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [kit.address(key), 10_000_000n] }))
    await send(wallet.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [chain.deployment.settlement, 10_000_000n] }))
    await send(wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [10_000_000n] }))
    return key
  }

  /** A sell of 10 Wh and a buy of 10 Wh in a fresh interval, each limit given, with a full meter reading. */
  async function simpleTrade(sellLimit = 100_000, buyLimit = 200_000) {
    const [sellerKey, buyerKey] = keys()
    const interval = await kit.slot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, sellLimit, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, buyLimit, interval))
    const reading = await kit.reading(sellerKey, kit.address(sellerKey), interval, 10)
    return { interval, sell, buy, reading, sellerKey, buyerKey }
  }

  return {
    keys,
    walletOf,
    testClient,
    fundedKey,
    simpleTrade,
    /** A fresh interval that has ended and may still settle (the kit's slot). */
    nextSlot: () => kit.slot(),
    rejects: (promise: Promise<unknown>, error: string) => expect(promise).rejects.toThrow(new RegExp(error)),
  }
}
