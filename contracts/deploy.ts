import { createPublicClient, createWalletClient, getAddress, http, type Address, type Chain, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { VppError } from '../protocol/errors.ts'
import { devStablecoinAbi, devStablecoinBytecode, energySettlementAbi, energySettlementBytecode } from './generated/artifacts.ts'

export interface Deployment {
  chainId: number
  settlement: Address
  token: Address
  operator: Address
  feeRecipient: Address
  tokenDecimals: number
  tokenSymbol: string
}

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return {
    id: chainId,
    name: chainId === 31337 ? 'anvil' : `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  }
}

/**
 * Deploys EnergySettlement (and, when no token is given, the 6-decimal DevStablecoin owned by the deployer).
 *
 * @example
 * const d = await deployContracts({ rpcUrl, deployerKey, feeRecipient })
 * d.settlement // 0x…
 */
export async function deployContracts(options: {
  rpcUrl: string
  deployerKey: Hex
  feeRecipient: Address
  operator?: Address
  token?: Address
}): Promise<Deployment> {
  const account = privateKeyToAccount(options.deployerKey)
  const transport = http(options.rpcUrl)
  const publicClient = createPublicClient({ transport })
  const chainId = await publicClient.getChainId()
  const chain = chainFor(chainId, options.rpcUrl)
  const wallet = createWalletClient({ account, chain, transport })

  const deploy = async (label: string, hash: Hex): Promise<Address> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new VppError('VPP_ERR_CHAIN', `${label} deployment reverted (tx ${hash})`)
    return getAddress(receipt.contractAddress)
  }

  const token =
    options.token ??
    (await deploy('DevStablecoin', await wallet.deployContract({ abi: devStablecoinAbi, bytecode: devStablecoinBytecode, args: [account.address] })))
  const operator = options.operator ?? account.address
  const settlement = await deploy(
    'EnergySettlement',
    await wallet.deployContract({ abi: energySettlementAbi, bytecode: energySettlementBytecode, args: [token, operator, options.feeRecipient] }),
  )
  const [tokenDecimals, tokenSymbol] = await Promise.all([
    publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'decimals' }),
    publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'symbol' }),
  ])
  return { chainId, settlement, token, operator, feeRecipient: options.feeRecipient, tokenDecimals, tokenSymbol }
}
