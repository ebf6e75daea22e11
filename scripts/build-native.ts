/**
 * `npm run build:native`: compiles the market's batch signature verifier (market/native/batch-verify.c,
 * with libsecp256k1 from the `secp256k1` package's sources) into market/native/build/batch_verify.node
 * with the machine's C compiler and Node's own headers. No node-gyp: it would try to download headers.
 *
 * Optional by design: without a compiler (a Pi without build-essential) the market recovers every
 * signature one by one, which is correct and about half as fast; the build says so and succeeds.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const source = join(root, 'market/native/batch-verify.c')
const library = join(root, 'node_modules/secp256k1/src/secp256k1')
export const BATCH_VERIFY_ADDON = join(root, 'market/native/build/batch_verify.node')

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

export type NativeBuild = { built: true; path: string; fresh: boolean } | { built: false; reason: string }

export function buildNative(): NativeBuild {
  const headers = nodeHeaders()
  if (!headers) return { built: false, reason: `Node's C headers (node_api.h) were not found beside ${process.execPath}` }
  if (!existsSync(join(library, 'src/secp256k1.c'))) return { built: false, reason: `libsecp256k1 sources not found in ${library} (run npm install)` }
  const inputs = [source, join(root, 'scripts/build-native.ts')]
  if (existsSync(BATCH_VERIFY_ADDON) && inputs.every((f) => statSync(f).mtimeMs <= statSync(BATCH_VERIFY_ADDON).mtimeMs)) {
    return { built: true, path: BATCH_VERIFY_ADDON, fresh: false }
  }
  mkdirSync(dirname(BATCH_VERIFY_ADDON), { recursive: true })
  const defines = ['ECMULT_GEN_PREC_BITS=4', 'ECMULT_WINDOW_SIZE=15', 'ENABLE_MODULE_RECOVERY=1', 'USE_ENDOMORPHISM=1', 'USE_NUM_NONE=1', 'USE_FIELD_INV_BUILTIN=1', 'USE_SCALAR_INV_BUILTIN=1', 'NAPI_VERSION=8', ...archDefines()]
  const args = ['-O2', '-fPIC', '-shared', '-Wall', '-Wno-unused-function', '-Wno-unused-parameter', '-Wno-nonnull-compare',
    `-I${headers}`, `-I${library}`, `-I${join(library, 'src')}`, ...defines.map((d) => `-D${d}`),
    '-o', BATCH_VERIFY_ADDON, source, '-lpthread']
  const compiler = process.env.CC ?? 'cc'
  try {
    execFileSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join('\n') || (error as Error).message
    return { built: false, reason: `${compiler} failed: ${detail}` }
  }
  return { built: true, path: BATCH_VERIFY_ADDON, fresh: true }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = buildNative()
  if (result.built) {
    if (result.fresh) console.log(`native: wrote ${result.path}`)
  } else {
    console.warn(`native: batch signature verification not built (${result.reason}); the market will recover signatures one by one. Install a C compiler (apt-get install build-essential) and run npm run build:native to enable it.`)
  }
}
