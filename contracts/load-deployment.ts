import { createPublicClient, getAddress, http, type Address } from 'viem'
import { VppError } from '../protocol/errors.ts'
import type { Deployment } from './deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from './generated/artifacts.ts'

/**
 * Everything about a deployed EnergySettlement that the market needs, read from the chain given only
 * its address: chain id, stablecoin (address, decimals, symbol), operator, fee recipient, guardian,
 * meter signer and the settlement parameters.
 */
export async function loadDeployment(rpcUrl: string, settlement: Address): Promise<Deployment> {
  const client = createPublicClient({ transport: http(rpcUrl) })
  try {
    const read = <F extends 'token' | 'community' | 'operator' | 'feeRecipient' | 'guardian' | 'meterSigner'>(functionName: F) => client.readContract({ address: settlement, abi: energySettlementAbi, functionName })
    const readNumber = async (functionName: 'imbalancePrice' | 'settlementWindow' | 'withdrawalDelay' | 'intervalLength') => Number(await client.readContract({ address: settlement, abi: energySettlementAbi, functionName }))
    const [chainId, token, community, operator, feeRecipient, guardian, meterSigner, imbalancePrice, settlementWindow, withdrawalDelay, intervalLength] = await Promise.all([
      client.getChainId(),
      read('token'),
      read('community'),
      read('operator'),
      read('feeRecipient'),
      read('guardian'),
      read('meterSigner'),
      readNumber('imbalancePrice'),
      readNumber('settlementWindow'),
      readNumber('withdrawalDelay'),
      readNumber('intervalLength'),
    ])
    const [tokenDecimals, tokenSymbol] = await Promise.all([
      client.readContract({ address: token, abi: devStablecoinAbi, functionName: 'decimals' }),
      client.readContract({ address: token, abi: devStablecoinAbi, functionName: 'symbol' }),
    ])
    return { chainId, settlement: getAddress(settlement), community, token, operator, feeRecipient, tokenDecimals, tokenSymbol, guardian, meterSigner, imbalancePrice, settlementWindow, withdrawalDelay, intervalLength }
  } catch (error) {
    throw new VppError('VPP_ERR_CHAIN', `cannot read the settlement contract at ${settlement} on ${rpcUrl}: is the address right and the RPC reachable? (${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message})`)
  }
}
