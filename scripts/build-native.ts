/**
 * `npm run build:native`: compiles the project's C addons into dist/native/ with the machine's C
 * compiler and Node's own headers (no node-gyp: it would try to download headers):
 * - batch_verify.node, batch signature verification (market/native/batch-verify.c, with libsecp256k1
 *   from the `secp256k1` package's sources);
 * - clear_columns.node, the clearing engine in C (market/native/clear-columns.c);
 * - payload_check.node, the broker's check of agents' JSON payloads (broker/native/payload-check.c).
 *
 * Optional by design: without a compiler (a Pi without build-essential) the market recovers every
 * signature one by one and clears with the TypeScript engine, and the broker checks every payload
 * with JSON.parse and zod, which is correct and slower; the build says so and succeeds.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nativeAddonPath } from '../platform/native-addon.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const library = join(root, 'node_modules/secp256k1/src/secp256k1')

/** Node's headers: beside the binary (Debian, nvm, official tarballs), or npm's `nodedir`. */
function nodeHeaders(): string | undefined {
  const candidates = [join(dirname(process.execPath), '../include/node'), process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node')]
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, 'node_api.h')))
}

/** The libsecp256k1 configuration the `secp256k1` package itself builds with, per architecture. */
function archDefines(): string[] {
  if (process.arch === 'x64') return ['HAVE___INT128=1', 'USE_ASM_X86_64=1', 'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1']
  if (process.arch === 'arm64') return ['HAVE___INT128=1', 'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1']
  return ['USE_FIELD_10X26=1', 'USE_SCALAR_8X32=1']
}

interface Addon {
  name: string
  /** What the market does without it. */
  without: string
  source: string
  output: string
  /** Compiler arguments besides the common ones; undefined with the reason when they cannot be had. */
  args: () => string[] | string
}

export const ADDONS: readonly Addon[] = [
  {
    name: 'batch signature verification',
    without: 'the market will recover signatures one by one',
    source: join(root, 'market/native/batch-verify.c'),
    output: nativeAddonPath('batch_verify'),
    args: () => {
      if (!existsSync(join(library, 'src/secp256k1.c'))) return `libsecp256k1 sources not found in ${library} (run npm install)`
      const defines = ['ECMULT_GEN_PREC_BITS=4', 'ECMULT_WINDOW_SIZE=15', 'ENABLE_MODULE_RECOVERY=1', 'USE_ENDOMORPHISM=1', 'USE_NUM_NONE=1', 'USE_FIELD_INV_BUILTIN=1', 'USE_SCALAR_INV_BUILTIN=1', ...archDefines()]
      // -O3: Keccak's rounds unrolled keep the state in registers (twice as fast as at -O2 here).
      return ['-O3', '-Wno-unused-function', '-Wno-nonnull-compare', `-I${library}`, `-I${join(library, 'src')}`, ...defines.map((d) => `-D${d}`), '-lpthread']
    },
  },
  {
    name: 'clearing engine',
    without: 'the market and the simulator will clear with the TypeScript engine',
    source: join(root, 'market/native/clear-columns.c'),
    output: nativeAddonPath('clear_columns'),
    // The engine's doubles must round exactly as JavaScript's: no fused multiply-add.
    args: () => ['-ffp-contract=off', '-lm'],
  },
  {
    name: 'payload check',
    without: 'the broker will check every agent payload with JSON.parse and zod',
    source: join(root, 'broker/native/payload-check.c'),
    output: nativeAddonPath('payload_check'),
    args: () => ['-O3', '-lm'],
  },
]

export type NativeBuild = { name: string; without: string } & ({ built: true; path: string; fresh: boolean } | { built: false; reason: string })

function build(addon: Addon): NativeBuild {
  const about = { name: addon.name, without: addon.without }
  const headers = nodeHeaders()
  if (!headers) return { ...about, built: false, reason: `Node's C headers (node_api.h) were not found beside ${process.execPath}` }
  const extra = addon.args()
  if (typeof extra === 'string') return { ...about, built: false, reason: extra }
  const inputs = [addon.source, fileURLToPath(import.meta.url)]
  if (existsSync(addon.output) && inputs.every((f) => statSync(f).mtimeMs <= statSync(addon.output).mtimeMs)) return { ...about, built: true, path: addon.output, fresh: false }
  mkdirSync(dirname(addon.output), { recursive: true })
  const args = ['-O2', '-fPIC', '-shared', '-Wall', '-Wno-unused-parameter', `-I${headers}`, '-DNAPI_VERSION=8', '-o', addon.output, addon.source, ...extra]
  const compiler = process.env.CC ?? 'cc'
  try {
    execFileSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join('\n') || (error as Error).message
    return { ...about, built: false, reason: `${compiler} failed: ${detail}` }
  }
  return { ...about, built: true, path: addon.output, fresh: true }
}

export function buildNative(): NativeBuild[] {
  return ADDONS.map(build)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const result of buildNative()) {
    if (result.built) {
      if (result.fresh) console.log(`native: wrote ${result.path}`)
    } else {
      console.warn(`native: ${result.name} not built (${result.reason}); ${result.without}. Install a C compiler (apt-get install build-essential) and run npm run build:native to enable it.`)
    }
  }
}
