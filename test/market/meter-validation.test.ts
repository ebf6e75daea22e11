import { describe, expect, it } from 'vitest'
import { zeroAddress, type Address } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { validateMeterReading, type MeterContext } from '../../market/service/meter-validation.ts'
import { communityKey } from '../../protocol/order.ts'

const home = privateKeyToAccount(generatePrivateKey())
const hub = privateKeyToAccount(generatePrivateKey())
const settlement = privateKeyToAccount(generatePrivateKey()).address
const community = communityKey('street')
const ctx = (patch: Partial<MeterContext> = {}): MeterContext => ({
  communityKey: community,
  chainId: 31337,
  settlement,
  meterSigner: zeroAddress,
  intervalSeconds: 900,
  nowSeconds: 1_800_000_900, // the reading's interval (1_800_000_000) has just ended
  addressOf: (id) => (id === 'home-01' ? home.address : undefined),
  ...patch,
})
const reading = (patch: Partial<{ owner: Address; interval: number; community: `0x${string}` }> = {}) => ({ owner: home.address, community, interval: 1_800_000_000, exportedWh: 120, importedWh: 3, ...patch })
const payload = async (signer = home, patch = {}) => JSON.stringify(await signMeterReading(signer, reading(patch), 31337, settlement))

describe('meter reading intake', () => {
  it("accepts a delivered interval's reading signed by the owner when no meter signer is configured", async () => {
    expect(await validateMeterReading(await payload(), 'home-01', ctx())).toMatchObject({ ok: true, signed: { reading: { exportedWh: 120 } } })
  })

  it('accepts only the meter hub’s signature when the deployment names one', async () => {
    expect(await validateMeterReading(await payload(), 'home-01', ctx({ meterSigner: hub.address }))).toMatchObject({ ok: false, reason: 'bad_signature' })
    expect(await validateMeterReading(await payload(hub), 'home-01', ctx({ meterSigner: hub.address }))).toMatchObject({ ok: true })
  })

  it('refuses, with a reason, what the contract would refuse or what is not the agent’s to send', async () => {
    const stranger = privateKeyToAccount(generatePrivateKey())
    expect(await validateMeterReading('{"reading":', 'home-01', ctx())).toMatchObject({ ok: false, reason: 'malformed_json' })
    expect(await validateMeterReading('{"reading":{}}', 'home-01', ctx())).toMatchObject({ ok: false, reason: 'invalid_schema' })
    expect(await validateMeterReading(await payload(), 'home-99', ctx())).toMatchObject({ ok: false, reason: 'unknown_agent' })
    expect(await validateMeterReading(await payload(stranger, { owner: stranger.address }), 'home-01', ctx())).toMatchObject({ ok: false, reason: 'owner_mismatch' })
    expect(await validateMeterReading(await payload(home, { community: communityKey('elsewhere') }), 'home-01', ctx())).toMatchObject({ ok: false, reason: 'wrong_community' })
    expect(await validateMeterReading(await payload(home, { interval: 1_800_000_900 }), 'home-01', ctx())).toMatchObject({ ok: false, reason: 'not_delivered_yet' })
    // A home's clock a second ahead of the market's is tolerated; a whole interval is not.
    expect(await validateMeterReading(await payload(), 'home-01', ctx({ nowSeconds: 1_800_000_899 }))).toMatchObject({ ok: true })
    expect(await validateMeterReading(await payload(), 'home-01', ctx({ nowSeconds: 1_800_000_500 }))).toMatchObject({ ok: false, reason: 'not_delivered_yet' })
    expect(await validateMeterReading(await payload(stranger), 'home-01', ctx())).toMatchObject({ ok: false, reason: 'bad_signature' })
  })
})
