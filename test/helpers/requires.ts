import { existsSync } from 'node:fs'
import { it } from 'vitest'

/**
 * Whether the tests that need `what` must be skipped because it is not installed. On a developer's
 * machine they are skipped; in CI (`CI` set) nothing may be skipped silently, so a test stands in for
 * them that fails saying what to install.
 * @example describe.skipIf(missing('socat', '/usr/bin/socat', 'apt-get install -y socat'))('RTU over a serial line', …)
 */
export function missing(what: string, path: string, install: string): boolean {
  if (existsSync(path)) return false
  if (process.env.CI) {
    it(`has ${what} installed (CI never skips)`, () => {
      throw new Error(`${what} is missing (${path}): ${install}; .ci/run installs it`)
    })
  }
  return true
}
