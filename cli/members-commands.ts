import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { privateKeyToAccount } from 'viem/accounts'
import type { Hex } from 'viem'
import { hashPasswordAsync } from '../broker/credentials.ts'
import { VppError } from '../protocol/errors.ts'
import { joinDomain, joinMessage, joinStatusSchema, joinTypes, type JoinRequest, type JoinStatus } from '../protocol/members.ts'
import { addressSchema } from '../protocol/order.ts'
import { topicIdSchema } from '../protocol/topic-id.ts'
import { parseOptions } from './parse-options.ts'

const marketUrl = z.url({ message: 'must be the market URL, e.g. http://127.0.0.1:8080' }).transform((u) => u.replace(/\/+$/, ''))
const agentId = topicIdSchema
const operatorOptions = { market: marketUrl, tokenFile: z.string().optional() }

/** The operator token: --token-file, else VPP_OPERATOR_TOKEN. */
function operatorToken(tokenFile: string | undefined): string {
  const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.VPP_OPERATOR_TOKEN
  if (!token) throw new VppError('VPP_ERR_UNAUTHORIZED', 'no operator token: give --token-file FILE (the file market.yaml names as operatorTokenFile) or set VPP_OPERATOR_TOKEN')
  return token
}

/** Calls the market's API; a refusal becomes an error with the market's own message. */
async function call(market: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(`${market}/api${path}`, {
      method,
      headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    })
  } catch (error) {
    throw new VppError('VPP_ERR_CONFIG', `cannot reach the market at ${market}: ${(error as Error).message}. Is the URL right and the market running?`)
  }
  const text = await response.text()
  const json = text ? (JSON.parse(text) as { message?: string }) : {}
  if (!response.ok) {
    const code = response.status === 401 ? 'VPP_ERR_UNAUTHORIZED' : response.status === 404 ? 'VPP_ERR_NOT_FOUND' : response.status === 409 ? 'VPP_ERR_MEMBER_EXISTS' : 'VPP_ERR_CONFIG'
    throw new VppError(code, `${response.status}: ${json.message ?? text}`)
  }
  return json
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))

/** `vpp members list --market URL`: every member, active or removed. */
export async function membersListCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object({ market: marketUrl }), raw)
  print(await call(o.market, 'GET', '/members'))
}

/**
 * `vpp members add --market URL --agent ID --address 0x… [--node N] [--password-stdin]`: adds a home.
 * Prints the broker password the market made for it, once, unless one came on stdin.
 */
export async function membersAddCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object({ ...operatorOptions, agent: agentId, address: addressSchema, node: z.string().optional(), passwordStdin: z.boolean().default(false) }), raw)
  const password = o.passwordStdin ? readFileSync(0, 'utf8').trim() : undefined
  const added = (await call(o.market, 'POST', '/members', { token: operatorToken(o.tokenFile), body: { agentId: o.agent, address: o.address, node: o.node, password } })) as { password?: string }
  print(added)
  if (added.password) console.error(`Give ${o.agent} this broker password now (its agent.yaml mqtt.passwordFile); it is not shown again.`)
}

/** `vpp members remove --market URL --agent ID`: the home is disconnected at once and its open orders cancelled. */
export async function membersRemoveCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object({ ...operatorOptions, agent: agentId }), raw)
  print(await call(o.market, 'DELETE', `/members/${o.agent}`, { token: operatorToken(o.tokenFile) }))
}

/** `vpp members rotate-key --market URL --agent ID --address 0xNEW`: orders signed by the old key and still open are cancelled. */
export async function membersRotateKeyCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object({ ...operatorOptions, agent: agentId, address: addressSchema }), raw)
  print(await call(o.market, 'POST', `/members/${o.agent}/rotate-key`, { token: operatorToken(o.tokenFile), body: { address: o.address } }))
}

/** `vpp members pending --market URL`: join requests waiting for the operator. */
export async function membersPendingCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object(operatorOptions), raw)
  print(await call(o.market, 'GET', '/join', { token: operatorToken(o.tokenFile) }))
}

/** `vpp members approve ID --market URL` (or `refuse ID [--reason TEXT]`): answers a join request. */
export async function membersAnswerCommand(answer: 'approve' | 'refuse', id: string, raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(z.object({ ...operatorOptions, reason: z.string().max(500).optional() }), raw)
  const agent = parseOptions(z.object({ agent: agentId }), { agent: id }).agent
  print(await call(o.market, 'POST', `/join/${agent}/${answer}`, { token: operatorToken(o.tokenFile), ...(answer === 'refuse' ? { body: { reason: o.reason } } : {}) }))
}

/**
 * `vpp agent join --market URL --agent ID [--node N] --key-file F [--password-file F] [--wait]`: asks to
 * join the community, signed with the home's key (proof that it holds it). The broker password is the
 * home's own, made here and kept in --password-file (mode 0600); only its scrypt hash is sent. With
 * --wait, waits for the operator's answer and prints how to connect.
 */
export async function agentJoinCommand(raw: Record<string, unknown>): Promise<JoinStatus> {
  const o = parseOptions(
    z.object({
      market: marketUrl,
      agent: agentId,
      node: z.string().default(''),
      keyFile: z.string(),
      passwordFile: z.string().optional(),
      wait: z.boolean().default(false),
      waitSeconds: z.coerce.number().int().min(1).default(3600),
    }),
    raw,
  )
  const key = readFileSync(o.keyFile, 'utf8').trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new VppError('VPP_ERR_CONFIG', `${o.keyFile} must hold the agent's 0x-prefixed private key (make one with vpp keys new)`)
  const account = privateKeyToAccount(key as Hex)
  const passwordFile = o.passwordFile ?? `${o.keyFile}.mqtt-password`
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  const password = readFileSync(passwordFile, 'utf8').trim()
  if (password.length < 12) throw new VppError('VPP_ERR_CONFIG', `${passwordFile} must hold a broker password of at least 12 characters`)
  const market = (await call(o.market, 'GET', '/market')) as { community: string; chainId: number; settlement: Hex }
  const request: JoinRequest = {
    community: market.community,
    agentId: o.agent,
    owner: account.address,
    node: o.node,
    passwordHash: await hashPasswordAsync(password),
    requestedAt: Math.floor(Date.now() / 1000),
  }
  const signature = await account.signTypedData({ domain: joinDomain(market.chainId, market.settlement), types: joinTypes, primaryType: 'JoinRequest', message: joinMessage(request) })
  let status = joinStatusSchema.parse(await call(o.market, 'POST', '/join', { body: { request, signature } }))
  console.error(`Asked to join ${market.community} as ${o.agent} (${account.address}); the broker password is in ${passwordFile}.`)
  const deadline = Date.now() + o.waitSeconds * 1000
  while (o.wait && status.status === 'pending' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    status = joinStatusSchema.parse(await call(o.market, 'GET', `/join/${o.agent}`))
  }
  print(status)
  if (status.status === 'approved') console.error(`Approved: put mqtt.passwordFile: ${passwordFile} and keyFile: ${o.keyFile} in agent.yaml and start the agent.`)
  if (status.status === 'refused') throw new VppError('VPP_ERR_UNAUTHORIZED', `the operator refused ${o.agent}'s request to join`)
  return status
}
