import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt, { type MqttClient } from 'mqtt'
import { createPublicClient, createWalletClient, http, parseEther, type Address, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { stringify } from 'yaml'
import { ANVIL_DEV_KEYS, startAnvil, type RunningAnvil } from '../../contracts/anvil.ts'
import { chainFor, type Deployment } from '../../contracts/deploy.ts'
import { fundHomesOnDevChain } from '../../contracts/fund.ts'
import { devStablecoinAbi, energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { loadDeployment } from '../../contracts/load-deployment.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { freePort } from '../../platform/free-port.ts'
import type { IntervalResult, MarketState } from '../../protocol/messages.ts'
import { topics } from '../../protocol/topics.ts'
import { runVpp, spawnVpp } from '../helpers/run-vpp.ts'
import { waitFor } from '../helpers/wait-for.ts'

// The whole journey of a real community, on the real parts started from their config files as an
// operator would start them: the contract deployed with `vpp contracts deploy`, `vpp broker` and `vpp
// market` as processes. A new home makes a key, asks to join, is approved, deposits with a permit,
// trades with the neighbours, is paid, and takes money out after the delay; another home is removed
// and can no longer publish; a third moves to a new key. No process is restarted.

const COMMUNITY = 'journey-street'
const INTERVAL = 6
let anvil: RunningAnvil
let deployment: Deployment
let dir: string
let market: string
let brokerUrl: string
const processes: ReturnType<typeof spawnVpp>[] = []
const clients: MqttClient[] = []
const buyerKey = generatePrivateKey()
const leaverKey = generatePrivateKey()
const [movingKey, movedKey] = [generatePrivateKey(), generatePrivateKey()]
const token = 'journey-operator-token-0123456789'
const env = { VPP_OPERATOR_TOKEN: token, VPP_LOG_LEVEL: 'warn' }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpp-journey-'))
  anvil = await startAnvil()
  const deployed = await runVpp(['contracts', 'deploy', '--rpc', anvil.rpcUrl, '--community', COMMUNITY, '--interval', `${INTERVAL}s`, '--settlement-window', '30s', '--withdrawal-delay', '31s'])
  expect(deployed.code, deployed.stderr).toBe(0)
  deployment = await loadDeployment(anvil.rpcUrl, (JSON.parse(deployed.stdout) as { settlement: Address }).settlement)
  await fundHomesOnDevChain({ rpcUrl: anvil.rpcUrl, deployment, minterKey: ANVIL_DEV_KEYS[0], homeKeys: [buyerKey, leaverKey, movingKey, movedKey], mintBaseUnits: 2_000_000_000n, escrowBaseUnits: 1_000_000_000n })

  // The broker: the market's account and the three homes the community started with.
  const users = join(dir, 'users.yaml')
  for (const [agent, role] of [['market', 'market'], ['home-01', 'agent'], ['home-02', 'agent'], ['home-03', 'agent']] as const) {
    const added = await runVpp(['broker', 'adduser', '--users', users, '--community', COMMUNITY, '--agent', agent, '--role', role], `${agent}-password\n`)
    expect(added.code, added.stderr).toBe(0)
  }
  const brokerPort = await freePort()
  brokerUrl = `mqtt://127.0.0.1:${brokerPort}`
  processes.push(spawnVpp(['broker', '--users', users, '--port', String(brokerPort)], env))
  await waitFor('the broker listening', () => processes[0]!.output.text.includes('OpenVPP broker'), 30_000, 100)

  // The market, from market.yaml.
  writeFileSync(join(dir, 'market.secret'), 'market-password\n', { mode: 0o600 })
  writeFileSync(join(dir, 'operator.key'), `${ANVIL_DEV_KEYS[0]}\n`, { mode: 0o600 })
  writeFileSync(join(dir, 'operator.token'), `${token}\n`, { mode: 0o600 })
  const httpPort = await freePort()
  writeFileSync(
    join(dir, 'market.yaml'),
    stringify({
      community: COMMUNITY,
      intervalSeconds: INTERVAL,
      operatorTokenFile: join(dir, 'operator.token'),
      mqtt: { url: brokerUrl, username: 'market', passwordFile: join(dir, 'market.secret') },
      chain: { rpcUrl: anvil.rpcUrl, settlement: deployment.settlement, operatorKeyFile: join(dir, 'operator.key') },
      http: { host: '127.0.0.1', port: httpPort },
      dataDir: join(dir, 'market'),
      priceFloor: 1,
      members: [
        { agentId: 'home-01', address: privateKeyToAccount(buyerKey).address },
        { agentId: 'home-02', address: privateKeyToAccount(movingKey).address },
        { agentId: 'home-03', address: privateKeyToAccount(leaverKey).address },
      ],
    }),
  )
  market = `http://127.0.0.1:${httpPort}`
  processes.push(spawnVpp(['market', '--config', join(dir, 'market.yaml')], env))
  await waitFor('the market serving', async () => (await fetch(`${market}/api/health`).then((r) => r.ok, () => false)) || undefined, 60_000, 200)
}, 180_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)))
  for (const p of processes) p.interrupt()
  await Promise.all(processes.map((p) => p.exited))
  await anvil?.stop()
})

function login(username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(brokerUrl, { username, password, clientId: username, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 15_000 })
    client.once('connect', () => {
      clients.push(client)
      resolve(client)
    })
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
}
const marketState = async () => (await (await fetch(`${market}/api/market`)).json()) as MarketState
const escrowOf = (owner: Address) => createPublicClient({ transport: http(anvil.rpcUrl) }).readContract({ address: deployment.settlement, abi: energySettlementAbi, functionName: 'balanceOf', args: [owner] })
let nonce = 1
async function order(key: Hex, side: 0 | 1, energyWh: number, limitPrice: number, interval?: number) {
  const state = await marketState()
  const account = privateKeyToAccount(key)
  return signOrder(account, { owner: account.address, community: state.communityKey, interval: interval ?? state.openInterval, side, energyWh, limitPrice, nonce: nonce++ }, deployment.chainId, deployment.settlement)
}

describe('a real community, from deployment to a withdrawal, without a restart', () => {
  it('a new home joins, deposits, trades, is paid and takes money out; another is removed; a third changes key', { timeout: 300_000 }, async () => {
    // A new home: its key, gas and stablecoin in its wallet (nothing in escrow yet), its agent.yaml.
    const keyFile = join(dir, 'home-11.key')
    const made = await runVpp(['keys', 'new', '--out', keyFile])
    expect(made.code, made.stderr).toBe(0)
    const newKey = readFileSync(keyFile, 'utf8').trim() as Hex
    const newHome = privateKeyToAccount(newKey).address
    const chain = chainFor(deployment.chainId, anvil.rpcUrl)
    const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_DEV_KEYS[0]), chain, transport: http(anvil.rpcUrl) })
    const pub = createPublicClient({ chain, transport: http(anvil.rpcUrl) })
    await pub.request({ method: 'anvil_setBalance' as never, params: [newHome, `0x${parseEther('1').toString(16)}`] as never })
    await pub.waitForTransactionReceipt({ hash: await minter.writeContract({ address: deployment.token, abi: devStablecoinAbi, functionName: 'mint', args: [newHome, 20_000_000n] }) })
    const agentYaml = join(dir, 'home-11.yaml')
    writeFileSync(
      agentYaml,
      stringify({
        agentId: 'home-11',
        community: COMMUNITY,
        mqtt: { url: brokerUrl, passwordFile: `${keyFile}.mqtt-password` },
        keyFile,
        device: { modbus: 'tcp://127.0.0.1:1502', unit: 1 },
        strategy: { feedInPrice: 80_000, retailPrice: 300_000 },
        chain: { rpcUrl: anvil.rpcUrl, settlement: deployment.settlement },
        marketUrl: market,
      }),
    )

    // It asks to join; the operator approves; it gets its connection details once approved.
    const asked = await runVpp(['agent', 'join', '--market', market, '--agent', 'home-11', '--key-file', keyFile])
    expect(asked.code, asked.stderr).toBe(0)
    const approved = await runVpp(['members', 'approve', 'home-11', '--market', market], undefined, env)
    expect(approved.code, approved.stderr).toBe(0)
    const status = (await (await fetch(`${market}/api/join/home-11`)).json()) as { status: string; connect: { username: string; settlement: string } }
    expect(status).toMatchObject({ status: 'approved', connect: { username: 'home-11', settlement: deployment.settlement } })

    // It deposits 5.00 dUSD with a permit.
    const deposited = await runVpp(['wallet', 'deposit', '5.00', '--config', agentYaml, '--json'])
    expect(deposited.code, deposited.stderr).toBe(0)
    expect(await escrowOf(newHome)).toBe(5_000_000n)

    // It trades with home-01 for three intervals: it sells 20 Wh in each, and delivers it.
    const seller = await login('home-11', readFileSync(`${keyFile}.mqtt-password`, 'utf8').trim())
    const buyer = await login('home-01', 'home-01-password')
    // An order that reaches the market after its gate closed (a loaded machine, 6 s intervals) is
    // refused as not open: that round is traded again, so the journey needs three traded intervals.
    const sold: number[] = []
    const tradedBy = async (interval: number) => {
      const result = (await (await fetch(`${market}/api/intervals?limit=50`)).json()) as IntervalResult[]
      return result.find((r) => r.interval === interval)?.trades.some((t) => t.seller.toLowerCase() === newHome.toLowerCase()) ?? false
    }
    for (let round = 0; sold.length < 3 && round < 8; round++) {
      const open = (await marketState()).openInterval
      await seller.publishAsync(topics.agent(COMMUNITY, 'home-11', 'orders'), JSON.stringify(await order(newKey, 1, 20, 100_000, open)), { qos: 1 })
      await buyer.publishAsync(topics.agent(COMMUNITY, 'home-01', 'orders'), JSON.stringify(await order(buyerKey, 0, 20, 200_000, open)), { qos: 1 })
      await waitFor('the interval delivered', async () => (await marketState()).openInterval > open + INTERVAL || undefined, 4 * INTERVAL * 1000, 200)
      if (!(await tradedBy(open))) continue
      sold.push(open)
      const reading = await signMeterReading(privateKeyToAccount(newKey), { owner: newHome, community: (await marketState()).communityKey, interval: open, exportedWh: 20, importedWh: 0 }, deployment.chainId, deployment.settlement)
      await seller.publishAsync(topics.agent(COMMUNITY, 'home-11', 'meter'), JSON.stringify(reading), { qos: 1 })
    }
    expect(sold).toHaveLength(3)
    // Paid: each interval settles, and the escrow grew by what its trades earned (seller price, rounded down).
    const results = await waitFor(
      'the three intervals settled',
      async () => {
        const intervals = (await (await fetch(`${market}/api/intervals?limit=50`)).json()) as IntervalResult[]
        const mine = intervals.filter((r) => sold.includes(r.interval))
        if (mine.length === 3 && mine.every((r) => r.settlement.status === 'settled')) return mine
        throw new Error(`settlement so far: ${JSON.stringify(mine.map((r) => ({ interval: r.interval, ...r.settlement })))}`)
      },
      90_000,
      500,
    )
    const earned = results.flatMap((r) => r.trades).filter((t) => t.seller.toLowerCase() === newHome.toLowerCase()).reduce((sum, t) => sum + BigInt(Math.floor((t.energyWh * t.sellerPrice) / 1000)), 0n)
    expect(results.flatMap((r) => r.trades).filter((t) => t.seller.toLowerCase() === newHome.toLowerCase())).toHaveLength(3)
    expect(await escrowOf(newHome)).toBe(5_000_000n + earned)

    // Another home is removed: disconnected at once, and it cannot log in to publish again.
    const leaver = await login('home-03', 'home-03-password')
    const closed = new Promise<void>((resolve) => leaver.once('close', () => resolve()))
    expect((await runVpp(['members', 'remove', '--market', market, '--agent', 'home-03'], undefined, env)).code).toBe(0)
    await closed
    await expect(login('home-03', 'home-03-password')).rejects.toThrow()

    // A third moves to a new key: the new key's orders are taken, the old key's refused.
    expect((await runVpp(['members', 'rotate-key', '--market', market, '--agent', 'home-02', '--address', privateKeyToAccount(movedKey).address], undefined, env)).code).toBe(0)
    const post = async (key: Hex) => (await fetch(`${market}/api/orders`, { method: 'POST', body: JSON.stringify(await order(key, 0, 10, 200_000)) })).status
    expect(await post(movedKey)).toBe(201)
    expect(await post(movingKey)).toBe(403)

    // The new home takes 1.00 dUSD out: requested, refused before the delay, taken after it.
    const requested = await runVpp(['wallet', 'withdraw', '1.00', '--config', agentYaml, '--json'])
    expect(requested.code, requested.stderr).toBe(0)
    const { withdrawableAt } = (JSON.parse(requested.stdout) as { pendingWithdrawal: { withdrawableAt: number } }).pendingWithdrawal
    expect((await runVpp(['wallet', 'withdraw', '--complete', '--config', agentYaml])).stderr).toMatch(/may be taken from/)
    await waitFor('the withdrawal delay to pass', () => Date.now() / 1000 > withdrawableAt + 1 || undefined, 60_000, 500)
    const walletBefore = await pub.readContract({ address: deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [newHome] })
    const taken = await runVpp(['wallet', 'withdraw', '--complete', '--config', agentYaml, '--json'])
    expect(taken.code, taken.stderr).toBe(0)
    expect(await pub.readContract({ address: deployment.token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [newHome] })).toBe(walletBefore + 1_000_000n)
    expect(await escrowOf(newHome)).toBe(4_000_000n + earned)

    // Neither process restarted.
    for (const p of processes) expect(p.child.exitCode).toBeNull()
  })
})
