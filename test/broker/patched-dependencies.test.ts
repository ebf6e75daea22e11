import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PATCHED_DEPENDENCIES, checkPatchedDependencies, installedVersions } from '../../broker/patches/patched-dependencies.ts'

describe('the dependencies whose private parts the broker patches', () => {
  it('are pinned exactly in package.json to the versions the patches were written for, and installed so', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
    for (const [name, version] of Object.entries(PATCHED_DEPENDENCIES)) expect(pkg.dependencies[name], name).toBe(version)
    expect(installedVersions()).toEqual(PATCHED_DEPENDENCIES)
    expect(() => checkPatchedDependencies()).not.toThrow()
  })

  it('refuse to start a broker on another version, naming it and what to do', () => {
    expect(() => checkPatchedDependencies({ ...PATCHED_DEPENDENCIES, mqemitter: '8.0.0' })).toThrow(/mqemitter 7\.1\.0 \(installed: 8\.0\.0\).*npm ci/)
  })
})
