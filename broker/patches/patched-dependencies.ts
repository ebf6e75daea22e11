import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { VppError } from '../../protocol/errors.ts'

/**
 * The exact versions whose private fields the modules in broker/patches/ reach into: mqemitter's
 * `_do` and `_matcher` (bounded-emitter.ts, match-cache.ts; mqemitter-redis inherits both) and an
 * aedes client's `_parser` (packet-size-guard.ts). package.json pins exactly these (a test holds them
 * equal); upgrading one means reading its source again and moving the pin here and there together.
 */
export const PATCHED_DEPENDENCIES = { aedes: '1.2.0', mqemitter: '7.1.0', 'mqemitter-redis': '7.2.1' } as const

const require = createRequire(import.meta.url)

/** The installed version of each patched dependency. */
export function installedVersions(): Record<keyof typeof PATCHED_DEPENDENCIES, string> {
  // A package's exports may hide its package.json: find it above the entry point instead.
  const versionOf = (name: string) => {
    for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json')
      if (!existsSync(file)) continue
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string }
      if (pkg.name === name) return pkg.version
    }
    return 'unknown'
  }
  return { aedes: versionOf('aedes'), mqemitter: versionOf('mqemitter'), 'mqemitter-redis': versionOf('mqemitter-redis') }
}

/**
 * Refuses to start a broker on versions the patches were not written for: each patch also checks the
 * field it touches, but a field that is still there can have changed meaning.
 */
export function checkPatchedDependencies(installed = installedVersions()): void {
  const wrong = (Object.keys(PATCHED_DEPENDENCIES) as (keyof typeof PATCHED_DEPENDENCIES)[]).filter((name) => installed[name] !== PATCHED_DEPENDENCIES[name])
  if (wrong.length) {
    throw new VppError(
      'VPP_ERR_CONFIG',
      `the broker patches private parts of ${wrong.map((n) => `${n} ${PATCHED_DEPENDENCIES[n]} (installed: ${installed[n]})`).join(', ')}: install the pinned versions with npm ci (broker/patches/patched-dependencies.ts)`,
    )
  }
}
