import { readFileSync } from 'node:fs'
import { createPublicClient, http, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { ANVIL_DEV_KEYS } from '../contracts/anvil.ts'
import { deployContracts, settlementDefaults } from '../contracts/deploy.ts'
import { parseDurationSeconds } from '../protocol/units.ts'
import { addressSchema } from '../protocol/order.ts'
import { VppError } from '../protocol/errors.ts'
import { topicIdSchema } from '../protocol/topic-id.ts'
import { parseOptions } from './parse-options.ts'

const duration = z.string().transform((text, ctx) => {
  try {
    return parseDurationSeconds(text)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
})

const deploySchema = z
  .object({
    rpc: z.url({ message: 'must be an RPC URL such as http://127.0.0.1:8545' }),
    community: z.string({ message: "is required: the community's name, as in market.yaml (the contract settles that community only)" }).pipe(topicIdSchema),
    token: addressSchema.optional(),
    feeRecipient: addressSchema.optional(),
    operator: addressSchema.optional(),
    guardian: addressSchema.optional(),
    meterSigner: addressSchema.optional(),
    imbalancePrice: z.coerce.number().int().nonnegative().optional(),
    interval: duration.pipe(z.number().int().min(1)).default(settlementDefaults.intervalLength),
    settlementWindow: duration.pipe(z.number().int().min(1)).default(settlementDefaults.settlementWindow),
    withdrawalDelay: duration.pipe(z.number().int().min(1)).optional(),
    keyFile: z.string().optional(),
    insecureSelfReportedMeterReadings: z.boolean().default(false),
  })
  .refine((o) => o.withdrawalDelay === undefined || o.withdrawalDelay > o.settlementWindow, {
    path: ['withdrawalDelay'],
    message: 'must be longer than the settlement window, or a withdrawal could escape an interval that still settles',
  })
const keySchema = z.string().trim().regex(/^0x[0-9a-fA-F]{64}$/, 'must hold a 0x-prefixed 32-byte private key')

/**
 * `vpp contracts deploy --rpc URL --community NAME [--token ADDR]`: deploys EnergySettlement (and the dev stablecoin when
 * no token is given) and prints the addresses as JSON. The deployer key comes from --key-file or
 * VPP_DEPLOYER_KEY; on a local anvil (chain id 31337) anvil's first dev account is used otherwise.
 */
export async function contractsDeployCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(deploySchema, raw)
  const chainId = await createPublicClient({ transport: http(options.rpc) }).getChainId()
  const keyText = options.keyFile ? readFileSync(options.keyFile, 'utf8') : process.env.VPP_DEPLOYER_KEY
  let deployerKey: Hex
  if (keyText) {
    const parsed = keySchema.safeParse(keyText)
    if (!parsed.success) throw new VppError('VPP_ERR_CONFIG', `deployer key ${options.keyFile ?? 'VPP_DEPLOYER_KEY'} ${parsed.error.issues[0]?.message}`)
    deployerKey = parsed.data as Hex
  } else if (chainId === 31337) {
    deployerKey = ANVIL_DEV_KEYS[0]
    console.error('Using anvil dev account 0 as deployer (local chain only).')
  } else {
    throw new VppError('VPP_ERR_CONFIG', `chain ${chainId} is not a local anvil: give the deployer key with --key-file FILE or VPP_DEPLOYER_KEY`)
  }
  const deployer = privateKeyToAccount(deployerKey).address
  const deployment = await deployContracts({
    rpcUrl: options.rpc,
    community: options.community,
    deployerKey,
    token: options.token,
    operator: (options.operator as Address | undefined) ?? deployer,
    feeRecipient: (options.feeRecipient as Address | undefined) ?? deployer,
    guardian: options.guardian as Address | undefined,
    meterSigner: options.meterSigner as Address | undefined,
    imbalancePrice: options.imbalancePrice,
    intervalLength: options.interval,
    settlementWindow: options.settlementWindow,
    withdrawalDelay: options.withdrawalDelay ?? Math.max(settlementDefaults.withdrawalDelay, 2 * options.settlementWindow),
    insecureSelfReportedMeterReadings: options.insecureSelfReportedMeterReadings,
  })
  console.log(JSON.stringify({ ...deployment, devToken: !options.token }, null, 2))
}
