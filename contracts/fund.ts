import { createPublicClient, createWalletClient, http, parseEther, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { VppError } from '../protocol/errors.ts'
import { chainFor, type Deployment } from './deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from './generated/artifacts.ts'

/**
 * Local chains only: gives each home gas money (anvil_setBalance), mints it dev stablecoin, and
 * deposits `escrowBaseUnits` of it into settlement escrow from the home's own key.
 */
export async function fundHomesOnDevChain(options: {
  rpcUrl: string
  deployment: Deployment
  minterKey: Hex
  homeKeys: Hex[]
  mintBaseUnits: bigint
  escrowBaseUnits: bigint
}): Promise<void> {
  const { rpcUrl, deployment } = options
  const transport = http(rpcUrl)
  const chain = chainFor(deployment.chainId, rpcUrl)
  const publicClient = createPublicClient({ chain, transport })
  const minter = createWalletClient({ account: privateKeyToAccount(options.minterKey), chain, transport })

  const confirm = async (label: string, hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new VppError('VPP_ERR_CHAIN', `${label} reverted (tx ${hash})`)
  }

  for (const key of options.homeKeys) {
    const home = privateKeyToAccount(key)
    await publicClient.request({ method: 'anvil_setBalance' as never, params: [home.address, `0x${parseEther('10').toString(16)}`] as never })
    await confirm('mint', await minter.writeContract({ address: deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [home.address, options.mintBaseUnits] }))
    const wallet = createWalletClient({ account: home, chain, transport })
    await confirm('approve', await wallet.writeContract({ address: deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [deployment.settlement, options.escrowBaseUnits] }))
    await confirm('deposit', await wallet.writeContract({ address: deployment.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [options.escrowBaseUnits] }))
  }
}
