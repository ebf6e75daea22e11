// Keeps package-lock.json valid for `npm ci` when the npm registry in use serves only some of
// @foundry-rs/anvil's platform packages (npm then leaves the others out of the lock, and `npm ci`
// refuses the lock). Adds the missing ones as platform-restricted optional entries, the shape npm
// itself writes; installs on other platforms resolve them from the registry as usual.
// Run: node scripts/lock-anvil-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'))
const wrapper = lock.packages['node_modules/@foundry-rs/anvil']
if (!wrapper) throw new Error('@foundry-rs/anvil is not in package-lock.json: run npm install first')
const platforms = { 'darwin-amd64': ['darwin', 'x64'], 'darwin-arm64': ['darwin', 'arm64'], 'linux-amd64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'win32-amd64': ['win32', 'x64'] }
let added = 0
for (const name of Object.keys(wrapper.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`
  if (lock.packages[key]) continue
  const [os, cpu] = platforms[name.replace('@foundry-rs/anvil-', '')] ?? []
  if (!os) throw new Error(`unknown anvil platform package ${name}`)
  lock.packages[key] = { version: wrapper.optionalDependencies[name], cpu: [cpu], license: wrapper.license, optional: true, os: [os] }
  added++
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`)
console.log(added ? `added ${added} anvil platform entries to package-lock.json` : 'package-lock.json already lists every anvil platform')
