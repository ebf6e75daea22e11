import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startAnvil, type RunningAnvil } from '../../contracts/anvil.ts'
import { communityKey } from '../../protocol/order.ts'
import { loadDeployment } from '../../contracts/load-deployment.ts'
import { runVpp } from '../helpers/run-vpp.ts'

let anvil: RunningAnvil
beforeAll(async () => {
  anvil = await startAnvil()
})
afterAll(async () => {
  await anvil?.stop()
})

describe('vpp contracts deploy', () => {
  it('deploys with the meter signer, imbalance price and windows given, as the chain then reports them', async () => {
    const hub = privateKeyToAccount(generatePrivateKey()).address
    const result = await runVpp(['contracts', 'deploy', '--rpc', anvil.rpcUrl, '--community', 'cli-street', '--meter-signer', hub, '--imbalance-price', '350000', '--interval', '5m', '--settlement-window', '6h', '--withdrawal-delay', '1d'])
    expect(result.code, result.stderr).toBe(0)
    const printed = JSON.parse(result.stdout) as { settlement: `0x${string}`; devToken: boolean }
    expect(printed.devToken).toBe(true)
    const onChain = await loadDeployment(anvil.rpcUrl, printed.settlement)
    expect(onChain).toMatchObject({ community: communityKey('cli-street'), meterSigner: hub, imbalancePrice: 350_000, intervalLength: 300, settlementWindow: 21_600, withdrawalDelay: 86_400, tokenDecimals: 6 })
  })

  it('refuses to deploy without the community it is for, and says which option to give', async () => {
    const result = await runVpp(['contracts', 'deploy', '--rpc', anvil.rpcUrl])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/--community .*required/)
  })

  it('names the option and the fix for a withdrawal delay no longer than the settlement window', async () => {
    const result = await runVpp(['contracts', 'deploy', '--rpc', anvil.rpcUrl, '--community', 'cli-street', '--settlement-window', '2d', '--withdrawal-delay', '1d'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/--withdrawal-delay .*must be longer than the settlement window/)
  })
})
