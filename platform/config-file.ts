import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { VppError } from '../protocol/errors.ts'

/**
 * Reads a YAML (or JSON) config file and validates it; an error names the file, the key, the bad
 * value and what was expected.
 */
export function loadConfigFile<S extends z.ZodType>(path: string, schema: S, overrides: Record<string, unknown> = {}): z.infer<S> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new VppError('VPP_ERR_CONFIG', `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  let raw: unknown
  try {
    raw = parseYaml(text) ?? {}
  } catch (error) {
    throw new VppError('VPP_ERR_CONFIG', `${path} is not valid YAML: ${(error as Error).message}`)
  }
  return validateConfig(path, schema, { ...(raw as object), ...overrides })
}

export function validateConfig<S extends z.ZodType>(source: string, schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.')
    if (issue.code === 'unrecognized_keys') {
      return `${issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(', ')}: unknown key; check the spelling or remove it`
    }
    const value = issue.path.reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part as string] : undefined), raw)
    if (value === undefined) return `${key}: is required`
    return `${key}: ${issue.message} (got ${JSON.stringify(value)})`
  })
  throw new VppError('VPP_ERR_CONFIG', `${source}: ${lines.join('; ')}`, { issues: parsed.error.issues })
}
