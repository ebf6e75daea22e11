import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { parse as parseYaml } from 'yaml'
import { verifyPassword } from '../../broker/credentials.ts'
import { freePort } from '../../platform/free-port.ts'
import { runVpp, spawnVpp } from '../helpers/run-vpp.ts'
import { waitFor } from '../helpers/wait-for.ts'

const dir = mkdtempSync(join(tmpdir(), 'vpp-broker-cli-'))
const usersFile = join(dir, 'users.yaml')

describe('vpp broker adduser', () => {
  it('stores a scrypt hash of the password read from stdin, in a 0600 file, and updates on a second call', async () => {
    const added = await runVpp(['broker', 'adduser', '--users', usersFile, '--community', 'street', '--agent', 'home-01'], 'first-password\n')
    expect(added).toMatchObject({ code: 0 })
    expect(added.stdout).toMatch(/added agent home-01 in community street/)
    expect(statSync(usersFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(usersFile, 'utf8')).not.toContain('first-password')

    const updated = await runVpp(['broker', 'adduser', '--users', usersFile, '--community', 'street', '--agent', 'home-01'], 'second-password\n')
    expect(updated.stdout).toMatch(/updated agent home-01/)
    await runVpp(['broker', 'adduser', '--users', usersFile, '--community', 'street', '--agent', 'market', '--role', 'market'], 'market-password\n')
    const { users } = parseYaml(readFileSync(usersFile, 'utf8')) as { users: { username: string; passwordHash: string; role: string }[] }
    expect(users.map((u) => [u.username, u.role])).toEqual([['home-01', 'agent'], ['market', 'market']])
    expect(await verifyPassword('second-password', users[0]!.passwordHash)).toBe(true)
    expect(await verifyPassword('first-password', users[0]!.passwordHash)).toBe(false)
  })

  it('refuses a short password and a bad role with a clear message', async () => {
    const short = await runVpp(['broker', 'adduser', '--users', usersFile, '--community', 'street', '--agent', 'home-02'], 'short\n')
    expect(short.code).toBe(1)
    expect(short.stderr).toMatch(/at least 8 characters/)
    const role = await runVpp(['broker', 'adduser', '--users', usersFile, '--community', 'street', '--agent', 'home-02', '--role', 'admin'], 'long-enough\n')
    expect(role.code).toBe(1)
    expect(role.stderr).toMatch(/--role "admin"/)
  })
})

describe('vpp broker', () => {
  it('runs from flags alone, authenticates the users file, and stops on Ctrl-C', async () => {
    const port = await freePort()
    const broker = spawnVpp(['broker', '--users', usersFile, '--port', String(port)], { VPP_LOG_LEVEL: 'silent' })
    await waitFor('the broker to start', () => broker.output.text.includes(`mqtt://127.0.0.1:${port}`), 30_000)
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'home-01', username: 'home-01', password: 'second-password', reconnectPeriod: 0 })
    expect(client.connected).toBe(true)
    await client.endAsync()
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'home-01', username: 'home-01', password: 'first-password', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i)
    broker.interrupt()
    expect(await broker.exited).toBe(0)
  })

  it('takes the same keys from --config and names every bad key', async () => {
    const config = join(dir, 'broker.yaml')
    writeFileSync(config, `users: ${usersFile}\nport: 70000\ntls:\n  port: 8883\nwebsockets: {port: 8083}\n`)
    const result = await runVpp(['broker', '--config', config])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('port: Too big')
    expect(result.stderr).toContain('(got 70000)')
    expect(result.stderr).toContain('tls.cert: is required')
    expect(result.stderr).toContain('websockets: unknown key')
  })
})
