import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWalletClient, http, parseEther, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { stringify } from 'yaml'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { runVpp } from '../helpers/run-vpp.ts'

// A homeowner moves its own money with its agent's key: deposit with a permit (one signature, one
// transaction), see escrow and wallet, request a withdrawal and take it after the contract's delay.

let chain: TestChain
let dir: string
const key: Hex = generatePrivateKey()
const home = privateKeyToAccount(key).address

beforeAll(async () => {
  chain = await startTestChain(0, { settlementWindow: 3600, withdrawalDelay: 7200, intervalLength: 900 })
  dir = mkdtempSync(join(tmpdir(), 'vpp-wallet-'))
  writeFileSync(join(dir, 'agent.key'), `${key}\n`, { mode: 0o600 })
  // 40 dUSD in the home's wallet and gas, nothing in escrow.
  await chain.publicClient.request({ method: 'anvil_setBalance' as never, params: [home, `0x${parseEther('1').toString(16)}`] as never })
  const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })
  await chain.publicClient.waitForTransactionReceipt({ hash: await minter.writeContract({ address: chain.deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [home, 40_000_000n] }) })
})
afterAll(async () => {
  await chain?.anvil.stop()
})

function config(name: string, extra: Record<string, unknown> = { chain: { rpcUrl: chain.anvil.rpcUrl, settlement: chain.deployment.settlement } }): string {
  const path = join(dir, `${name}.yaml`)
  writeFileSync(
    path,
    stringify({
      agentId: 'home-01',
      community: 'street',
      mqtt: { url: 'mqtt://127.0.0.1:1883', passwordFile: join(dir, 'mqtt.secret') },
      keyFile: join(dir, 'agent.key'),
      device: { modbus: 'tcp://127.0.0.1:1502', unit: 1 },
      strategy: { feedInPrice: 80_000, retailPrice: 300_000 },
      ...extra,
    }),
  )
  return path
}
const wallet = async (...args: string[]) => {
  const result = await runVpp(['wallet', ...args])
  return { ...result, json: result.code === 0 && args.includes('--json') ? (JSON.parse(result.stdout) as Record<string, unknown>) : null }
}
const nonce = () => chain.publicClient.getTransactionCount({ address: home })

describe('vpp wallet', () => {
  it('shows escrow and wallet, and deposits with one permit signature in one transaction', async () => {
    const agentYaml = config('agent')
    const before = await wallet('balance', '--config', agentYaml, '--json')
    expect(before.json).toMatchObject({ owner: home, symbol: 'dUSD', decimals: 6, walletBaseUnits: '40000000', escrowBaseUnits: '0', pendingWithdrawal: null })
    const txsBefore = await nonce()
    const deposited = await wallet('deposit', '25.00', '--config', agentYaml, '--json')
    expect(deposited.code, deposited.stderr).toBe(0)
    expect(deposited.json).toMatchObject({ walletBaseUnits: '15000000', escrowBaseUnits: '25000000' })
    expect((await nonce()) - txsBefore).toBe(1) // no separate approve
    // As a person reads it.
    const human = await wallet('balance', '--config', agentYaml)
    expect(human.stdout).toMatch(/Escrow: +25\.000000 dUSD/)
    expect(human.stdout).toMatch(/Wallet: +15\.000000 dUSD/)
  })

  it('refuses a deposit the wallet cannot pay, with the numbers, and an amount finer than the token', async () => {
    const agentYaml = config('agent')
    const tooMuch = await wallet('deposit', '100', '--config', agentYaml)
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.stderr).toMatch(/holds 15\.000000 dUSD, less than the 100\.000000 dUSD to deposit/)
    const tooFine = await wallet('deposit', '1.0000001', '--config', agentYaml)
    expect(tooFine.code).toBe(1)
    expect(tooFine.stderr).toMatch(/more than the token's 6 decimals/)
    const notANumber = await wallet('deposit', '1e3', '--config', agentYaml)
    expect(notANumber.stderr).toMatch(/is not an amount/)
  })

  it('requests a withdrawal, refuses to take it before the delay (saying when), and takes it after', async () => {
    const agentYaml = config('agent')
    const requested = await wallet('withdraw', '10.00', '--config', agentYaml, '--json')
    expect(requested.code, requested.stderr).toBe(0)
    const pending = requested.json!.pendingWithdrawal as { baseUnits: string; withdrawableAt: number }
    expect(pending.baseUnits).toBe('10000000')
    const early = await wallet('withdraw', '--complete', '--config', agentYaml)
    expect(early.code).toBe(1)
    expect(early.stderr).toMatch(/may be taken from .* \(in \d+ s\)/)
    await chain.publicClient.request({ method: 'evm_increaseTime' as never, params: ['0x1c21'] as never }) // 7201 s
    await chain.publicClient.request({ method: 'evm_mine' as never, params: [] as never })
    const done = await wallet('withdraw', '--complete', '--config', agentYaml, '--json')
    expect(done.code, done.stderr).toBe(0)
    expect(done.json).toMatchObject({ escrowBaseUnits: '15000000', walletBaseUnits: '25000000', pendingWithdrawal: null })
    expect(await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [home] })).toBe(15_000_000n)
  })

  it('says what to add when agent.yaml names no chain', async () => {
    const bare = await wallet('balance', '--config', config('bare', {}))
    expect(bare.code).toBe(1)
    expect(bare.stderr).toMatch(/has no chain: add chain: \{ rpcUrl: …, settlement: 0x… \}/)
  })
})
