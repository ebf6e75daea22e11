import { createPublicClient, createWalletClient, getAddress, http, zeroAddress, type Address, type Chain, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { VppError } from '../protocol/errors.ts'
import { communityKey } from '../protocol/order.ts'
import { settlementDefaults } from '../protocol/settlement-defaults.ts'
import { devStablecoinAbi, devStablecoinBytecode, energySettlementAbi, energySettlementBytecode } from './generated/artifacts.ts'

export interface Deployment {
  chainId: number
  settlement: Address
  /** The one community the contract settles: keccak256 of its name, as orders sign it. */
  community: Hex
  token: Address
  operator: Address
  feeRecipient: Address
  tokenDecimals: number
  tokenSymbol: string
  /** May pause settlement and deposits (never withdrawals). */
  guardian: Address
  /** Signs meter readings; the zero address means each owner's own agent key. */
  meterSigner: Address
  /** Base units per kWh a seller pays for energy it sold but did not deliver. */
  imbalancePrice: number
  /** Seconds after an interval's start during which it may be settled. */
  settlementWindow: number
  /** Seconds between a withdrawal request and the withdrawal. */
  withdrawalDelay: number
  /** Every interval starts at a multiple of this many seconds: the market's interval length must be a multiple of it. */
  intervalLength: number
}

export { settlementDefaults } from '../protocol/settlement-defaults.ts'

/** anvil's chain id: a local development chain, where self-reported meter readings are allowed. */
export const DEV_CHAIN_ID = 31337

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return {
    id: chainId,
    name: chainId === DEV_CHAIN_ID ? 'anvil' : `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  }
}

/**
 * Deploys EnergySettlement (and, when no token is given, the 6-decimal DevStablecoin owned by the deployer).
 *
 * @example
 * const d = await deployContracts({ rpcUrl, community: 'sunny-street', deployerKey, feeRecipient })
 * d.settlement // 0x…
 */
export async function deployContracts(options: {
  rpcUrl: string
  /** The community's name (market.yaml's `community`): the contract settles this community only. */
  community: string
  deployerKey: Hex
  feeRecipient: Address
  operator?: Address
  token?: Address
  guardian?: Address
  meterSigner?: Address
  imbalancePrice?: number
  settlementWindow?: number
  withdrawalDelay?: number
  intervalLength?: number
  /**
   * Lets a chain other than a local anvil (id 31337) deploy with no meter signer, so that every seller
   * signs its own meter readings and vouches for its own delivery. Never for a real community.
   */
  insecureSelfReportedMeterReadings?: boolean
}): Promise<Deployment> {
  const account = privateKeyToAccount(options.deployerKey)
  const transport = http(options.rpcUrl)
  const publicClient = createPublicClient({ transport })
  const chainId = await publicClient.getChainId()
  if ((options.meterSigner ?? zeroAddress) === zeroAddress && chainId !== DEV_CHAIN_ID && !options.insecureSelfReportedMeterReadings) {
    throw new VppError(
      'VPP_ERR_CONFIG',
      `no meter signer given for chain ${chainId}: without one every seller signs its own meter readings and can claim deliveries it never made. Give the meter data hub's address (--meter-signer ADDR), or, for a test chain only, --insecure-self-reported-meter-readings`,
    )
  }
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
  const guardian = options.guardian ?? account.address
  const meterSigner = options.meterSigner ?? zeroAddress
  const imbalancePrice = options.imbalancePrice ?? settlementDefaults.imbalancePrice
  const settlementWindow = options.settlementWindow ?? settlementDefaults.settlementWindow
  const withdrawalDelay = options.withdrawalDelay ?? Math.max(settlementDefaults.withdrawalDelay, settlementWindow + 1)
  const intervalLength = options.intervalLength ?? settlementDefaults.intervalLength
  const community = communityKey(options.community)
  const args = [token, community, operator, options.feeRecipient, guardian, meterSigner, BigInt(imbalancePrice), BigInt(settlementWindow), BigInt(withdrawalDelay), BigInt(intervalLength)] as const
  const settlement = await deploy('EnergySettlement', await wallet.deployContract({ abi: energySettlementAbi, bytecode: energySettlementBytecode, args }))
  const [tokenDecimals, tokenSymbol] = await Promise.all([
    publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'decimals' }),
    publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'symbol' }),
  ])
  return { chainId, settlement, community, token, operator, feeRecipient: options.feeRecipient, tokenDecimals, tokenSymbol, guardian, meterSigner, imbalancePrice, settlementWindow, withdrawalDelay, intervalLength }
}
