import { createPublicClient, createWalletClient, http, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startAnvil, ANVIL_DEV_KEYS, type RunningAnvil } from '../../contracts/anvil.ts'
import { chainFor, deployContracts, type Deployment } from '../../contracts/deploy.ts'
import { fundHomesOnDevChain } from '../../contracts/fund.ts'

export interface TestChain {
  anvil: RunningAnvil
  deployment: Deployment
  publicClient: ReturnType<typeof createPublicClient>
  operator: ReturnType<typeof createWalletClient>
  feeRecipient: `0x${string}`
  homeKeys: Hex[]
}

/**
 * A fresh anvil with the contracts deployed for community `deploy.community` (default 'street') and `homes` funded accounts (1000 dUSD each in escrow).
 * `deploy` overrides the settlement parameters, e.g. `{ intervalLength: 20 }` for a 20 s market.
 */
export async function startTestChain(homes = 4, deploy: Partial<Parameters<typeof deployContracts>[0]> = {}): Promise<TestChain> {
  // 'street': the community of the market tests and of startCommunity.
  const anvil = await startAnvil()
  const feeRecipient = privateKeyToAccount(ANVIL_DEV_KEYS[1]).address
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, community: 'street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient, ...deploy })
  const homeKeys = Array.from({ length: homes }, () => generatePrivateKey())
  await fundHomesOnDevChain({ rpcUrl: anvil.rpcUrl, deployment, minterKey: ANVIL_DEV_KEYS[0], homeKeys, mintBaseUnits: 2_000_000_000n, escrowBaseUnits: 1_000_000_000n })
  const chain = chainFor(deployment.chainId, anvil.rpcUrl)
  const transport = http(anvil.rpcUrl)
  return {
    anvil,
    deployment,
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }),
    operator: createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain, transport }),
    feeRecipient,
    homeKeys,
  }
}
