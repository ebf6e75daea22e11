import type { z } from 'zod'
import { VppError } from '../protocol/errors.ts'

/**
 * Validates command-line options with a zod schema; an error names the option, the bad value and
 * what was expected.
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.')
    // commander hands options over in camelCase; the user typed them in kebab-case.
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
    return `--${flag} ${JSON.stringify(raw[key as string])}: ${issue.message}`
  })
  throw new VppError('VPP_ERR_CONFIG', lines.join('; '))
}
