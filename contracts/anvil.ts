import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createPublicClient, http } from 'viem'
import { VppError } from '../protocol/errors.ts'
import { freePort } from '../platform/free-port.ts'

const require = createRequire(import.meta.url)

/** anvil's default dev accounts (mnemonic "test test … junk"), index 0 and 1: local chains only. */
export const ANVIL_DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
] as const

export interface RunningAnvil {
  rpcUrl: string
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * The anvil binary shipped by `@foundry-rs/anvil`'s platform package. Spawning it directly (not the
 * npm wrapper script) means stopping it stops the chain itself, not only a wrapper.
 */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`)
  } catch {
    const fallback = new URL('../node_modules/.bin/anvil', import.meta.url).pathname
    if (existsSync(fallback)) return fallback
    throw new VppError('VPP_ERR_PROCESS', `no anvil binary for ${process.platform}-${arch}: run \`npm install\` (it ships in @foundry-rs/anvil)`)
  }
}

/**
 * Starts a local anvil chain on a free loopback port and waits until it answers JSON-RPC.
 *
 * @example
 * const chain = await startAnvil()
 * // … chain.rpcUrl …
 * await chain.stop()
 */
export async function startAnvil(options: { port?: number; chainId?: number } = {}): Promise<RunningAnvil> {
  const port = options.port ?? (await freePort())
  const chainId = options.chainId ?? 31337
  const child = spawn(anvilBinary(), ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--silent'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const rpcUrl = `http://127.0.0.1:${port}`
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) })

  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new VppError('VPP_ERR_PROCESS', `anvil exited with code ${child.exitCode}: ${stderr.trim()}`)
    try {
      await client.getChainId()
      break
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new VppError('VPP_ERR_PROCESS', `anvil did not answer on ${rpcUrl} within 30 s: ${stderr.trim()}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  return {
    rpcUrl,
    chainId,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
      await exited
      clearTimeout(timer)
    },
  }
}
