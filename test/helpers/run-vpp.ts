import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const vpp = join(ROOT, 'cli/vpp.ts')
// tsx as a loader in one process, not the `tsx` wrapper: the wrapper gives its child 60 ms to answer
// a relayed SIGTERM before it SIGKILLs it and exits 143, which a loaded machine exceeds, cutting off
// the clean shutdown these tests check.
const node = [process.execPath, '--import', 'tsx', vpp] as const

export interface VppResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the `vpp` CLI to completion, optionally feeding stdin. */
export function runVpp(args: string[], stdin?: string, env: Record<string, string> = {}): Promise<VppResult> {
  return new Promise((resolve) => {
    const child = execFile(node[0], [...node.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    if (stdin !== undefined) child.stdin?.end(stdin)
    else child.stdin?.end()
  })
}

/** Starts a long-running `vpp` command in its own process group; collects its output. */
export function spawnVpp(args: string[], env: Record<string, string> = {}) {
  const child = spawn(node[0], [...node.slice(1), ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const output = { text: '' }
  child.stdout.on('data', (d: Buffer) => (output.text += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output.text += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output, exited, interrupt: () => process.kill(-child.pid!, 'SIGINT') }
}
