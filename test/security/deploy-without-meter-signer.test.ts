import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { zeroAddress } from 'viem'
import { ANVIL_DEV_KEYS, startAnvil, type RunningAnvil } from '../../contracts/anvil.ts'
import { deployContracts } from '../../contracts/deploy.ts'
import { runVpp } from '../helpers/run-vpp.ts'

// Review finding 4: with no meter signer (the default), every seller signs its own meter readings and
// vouches for its own delivery. Deployment now refuses that except on a local dev chain (31337) or
// with a flag whose name says what it does.

let testnet: RunningAnvil
beforeAll(async () => {
  testnet = await startAnvil({ chainId: 1337 }) // any chain but the dev chain
})
afterAll(async () => {
  await testnet?.stop()
})

describe('attack: a community deployed where sellers vouch for their own delivery', () => {
  it('deployContracts refuses a zero meter signer off the dev chain, and says what to give', async () => {
    const feeRecipient = privateKeyToAccount(ANVIL_DEV_KEYS[1]).address
    await expect(deployContracts({ rpcUrl: testnet.rpcUrl, community: 'street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient })).rejects.toThrow(/no meter signer given for chain 1337.*--meter-signer/)
    await expect(deployContracts({ rpcUrl: testnet.rpcUrl, community: 'street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient, meterSigner: zeroAddress })).rejects.toThrow(/VPP_ERR_CONFIG/)
    const hub = privateKeyToAccount(generatePrivateKey()).address
    expect((await deployContracts({ rpcUrl: testnet.rpcUrl, community: 'street', deployerKey: ANVIL_DEV_KEYS[0], feeRecipient, meterSigner: hub })).meterSigner).toBe(hub)
  })

  it('vpp contracts deploy exits 1 with the fix, and deploys only with the loudly named flag', async () => {
    const env = { VPP_DEPLOYER_KEY: ANVIL_DEV_KEYS[0] }
    const refused = await runVpp(['contracts', 'deploy', '--rpc', testnet.rpcUrl, '--community', 'street'], undefined, env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/--meter-signer ADDR.*--insecure-self-reported-meter-readings/)
    const allowed = await runVpp(['contracts', 'deploy', '--rpc', testnet.rpcUrl, '--community', 'street', '--insecure-self-reported-meter-readings'], undefined, env)
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(JSON.parse(allowed.stdout)).toMatchObject({ chainId: 1337, meterSigner: zeroAddress })
  })
})
