import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { z } from 'zod'
import { validateConfig } from '../platform/config-file.ts'
import { VppError } from '../protocol/errors.ts'
import { hashPassword } from './credentials.ts'
import { userSchema, type User } from './users.ts'

export const usersFileSchema = z
  .object({ users: z.array(userSchema) })
  .refine((f) => new Set(f.users.map((u) => u.username)).size === f.users.length, { message: 'a username appears twice', path: ['users'] })

/** Reads a users file (YAML: `users: [{username, passwordHash, role, community}]`). */
export function readUsersFile(path: string): User[] {
  if (!existsSync(path)) throw new VppError('VPP_ERR_CONFIG', `users file ${path} does not exist: create it with \`vpp broker adduser --users ${path} …\``)
  return validateConfig(path, usersFileSchema, parseYaml(readFileSync(path, 'utf8')) ?? { users: [] }).users
}

/**
 * Adds a user, or sets a new password for an existing one (like mosquitto_passwd). The file holds
 * only scrypt hashes and is written atomically with mode 0600.
 */
export function upsertUser(path: string, user: { username: string; password: string; role: User['role']; community: string }): 'added' | 'updated' {
  if (user.password.length < 8) throw new VppError('VPP_ERR_CONFIG', 'the password must be at least 8 characters')
  const users = existsSync(path) ? readUsersFile(path) : []
  const record = validateConfig('user', userSchema, { username: user.username, passwordHash: hashPassword(user.password), role: user.role, community: user.community })
  const index = users.findIndex((u) => u.username === user.username)
  if (index >= 0) users[index] = record
  else users.push(record)
  const temp = `${path}.tmp`
  writeFileSync(temp, stringifyYaml({ users }), { mode: 0o600 })
  chmodSync(temp, 0o600)
  renameSync(temp, path)
  return index >= 0 ? 'updated' : 'added'
}
