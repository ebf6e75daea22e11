import { describe, expect, it } from 'vitest'
import { createWalletClient, encodeFunctionData, http, parseSignature, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor, deployContracts } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi, reentrantTokenAbi, reentrantTokenBytecode } from '../../contracts/generated/artifacts.ts'
import { buyerPaysBaseUnits } from '../../protocol/units.ts'
import { chain, community, kit, settlementContractSuite } from '../helpers/settlement-contract.ts'

// The escrow of the settlement contract: withdrawals locked while an interval may still owe, permits,
// reentrancy, the guardian's pause and the settlement window.
const { keys, walletOf, testClient, nextSlot, rejects } = settlementContractSuite()

describe('escrow', () => {
  it('locks a withdrawal until no interval it may owe can still settle, and settles from it meanwhile', async () => {
    const [, , , key] = keys()
    const owner = kit.address(key)
    const wallet = walletOf(key)
    const write = async (functionName: 'requestWithdrawal' | 'withdraw', args: readonly [bigint] | readonly [] = []) =>
      chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName, args } as never) })
    const escrow = await kit.balance(owner)
    await write('requestWithdrawal', [escrow])
    // Withdrawing while an interval it bid in may still settle: refused.
    await rejects(wallet.simulateContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'withdraw' }), 'WithdrawalNotReady')
    // An interval it bid in settles from the escrow during the delay.
    const [sellerKey] = keys()
    const interval = await nextSlot()
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await kit.sign(key, kit.order(key, 0, 10, 200_000, interval))
    await kit.settle(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [await kit.reading(sellerKey, sell.order.owner, interval, 10)]))
    await testClient().increaseTime({ seconds: chain.deployment.withdrawalDelay })
    await testClient().mine({ blocks: 1 })
    const tokenBefore = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [owner] })
    await write('withdraw')
    const tokenAfter = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [owner] })
    // It asked for its whole escrow; what the settlement took is no longer there to withdraw.
    expect(tokenAfter - tokenBefore).toBe(escrow - buyerPaysBaseUnits(10n, 150_000n))
    expect(await kit.balance(owner)).toBe(0n)
  })

  it('deposits with an EIP-2612 permit in one transaction', async () => {
    const key = generatePrivateKey()
    const account = privateKeyToAccount(key)
    const viemChain = chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
    const transport = http(chain.anvil.rpcUrl)
    await testClient().setBalance({ address: account.address, value: 10n ** 18n })
    const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain: viemChain, transport })
    await chain.publicClient.waitForTransactionReceipt({ hash: await minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [account.address, 5_000_000n] }) })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 365 * 86_400)
    const nonce = await chain.publicClient.readContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'nonces', args: [account.address] })
    const signature = await account.signTypedData({
      domain: { name: 'OpenVPP Dev USD', version: '1', chainId: chain.deployment.chainId, verifyingContract: chain.deployment.token },
      types: { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] },
      primaryType: 'Permit',
      message: { owner: account.address, spender: chain.deployment.settlement, value: 5_000_000n, nonce, deadline },
    })
    const { r, s, v } = parseSignature(signature)
    const wallet = createWalletClient({ account, chain: viemChain, transport })
    await chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'depositWithPermit', args: [5_000_000n, deadline, Number(v), r, s] }) })
    expect(await kit.balance(account.address)).toBe(5_000_000n)
  })

  it('refuses a reentrant call from the token during a withdrawal', async () => {
    const deployer = walletOf(ANVIL_DEV_KEYS[0])
    const tokenReceipt = await chain.publicClient.waitForTransactionReceipt({ hash: await deployer.deployContract({ abi: reentrantTokenAbi, bytecode: reentrantTokenBytecode }) })
    const token = tokenReceipt.contractAddress!
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token, settlementWindow: 60, withdrawalDelay: 120, intervalLength: 20 })
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'mint', args: [deployer.account.address, 1000n] }))
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'approve', args: [d.settlement, 1000n] }))
    await send(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }))
    await send(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [500n] }))
    await testClient().increaseTime({ seconds: 121 })
    await testClient().mine({ blocks: 1 })
    // While paying out, the token calls withdraw() again.
    await send(deployer.writeContract({ address: token, abi: reentrantTokenAbi, functionName: 'arm', args: [d.settlement, encodeFunctionData({ abi: energySettlementAbi, functionName: 'withdraw' })] }))
    await rejects(deployer.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'withdraw' }), 'ReentrancyGuardReentrantCall')
    expect(await chain.publicClient.readContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [deployer.account.address] })).toBe(1000n)
  })

  it('pauses settlement and deposits for the guardian only, never withdrawals', async () => {
    const d = await deployContracts({ rpcUrl: chain.anvil.rpcUrl, community: 'test-street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient: chain.feeRecipient, token: chain.deployment.token, settlementWindow: 60, withdrawalDelay: 120, intervalLength: 20 })
    const viemChain = chainFor(chain.deployment.chainId, chain.anvil.rpcUrl)
    const guardian = walletOf(ANVIL_DEV_KEYS[0])
    const home = walletOf(keys()[1])
    const send = async (hash: Promise<Hex>) => chain.publicClient.waitForTransactionReceipt({ hash: await hash })
    await send(home.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'approve', args: [d.settlement, 2000n] }))
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }))
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [1000n] }))
    await rejects(home.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'setPaused', args: [true] }), 'NotGuardian')
    await send(guardian.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'setPaused', args: [true] }))
    await rejects(home.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'deposit', args: [1000n] }), 'IsPaused')
    await rejects(guardian.simulateContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'settleInterval', args: [community, BigInt(await nextSlot()), '0x', '0x', '0x'] }), 'IsPaused')
    await testClient().increaseTime({ seconds: 121 })
    await testClient().mine({ blocks: 1 })
    await send(home.writeContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'withdraw' }))
    expect(await chain.publicClient.readContract({ address: d.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [home.account.address] })).toBe(0n)
  })

  it('refuses to settle an interval once its settlement window has closed', async () => {
    const [sellerKey, buyerKey] = keys()
    const block = await chain.publicClient.getBlock()
    const interval = Math.floor((Number(block.timestamp) - chain.deployment.settlementWindow - 1) / 900) * 900
    const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
    const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
    await rejects(kit.simulate(interval, kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }])), 'SettlementWindowClosed')
  })
})
