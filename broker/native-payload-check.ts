import type { z } from 'zod'
import { nativeAddon } from '../platform/native-addon.ts'

/**
 * A zod schema as the program broker/native/payload-check.c reads (the format is described there),
 * or null when the schema uses anything that program cannot express exactly; then payloads of that
 * schema are always checked by JSON.parse and zod. Pure: the schema in, arrays out.
 */
export function compileSchemaProgram(schema: z.ZodType): { program: Float64Array; keys: Uint8Array } | null {
  const program: number[] = []
  const keys: number[] = []
  const emit = (node: z.ZodType, depth: number): boolean => {
    if (depth > 32) return false
    const def = node._zod.def as unknown as Def
    const checks = def.checks ?? []
    const at = program.length
    switch (def.type) {
      case 'object': {
        const shape = Object.entries(def.shape!)
        // catchall: strict or passthrough objects; checks: refinements, which only zod can run.
        if (def.catchall !== undefined || checks.length || shape.length > 64) return false
        program.push(KIND.object, shape.length)
        const entries = program.length
        for (let k = 0; k < shape.length; k++) program.push(0, 0, 0, 0)
        for (const [k, [key, child]] of shape.entries()) {
          const bytes = Buffer.from(key, 'utf8')
          const childDef = child._zod.def as unknown as Def
          const optional = childDef.type === 'optional'
          const entry = [keys.length, bytes.length, program.length, optional ? 1 : 0]
          entry.forEach((v, i) => (program[entries + 4 * k + i] = v))
          keys.push(...bytes)
          if (!emit(optional ? childDef.innerType! : child, depth + 1)) return false
        }
        return true
      }
      case 'array': {
        const bounds = lengthBounds(checks)
        if (!bounds) return false
        program.push(KIND.array, ...bounds, 0)
        program[at + 3] = program.length
        return emit(def.element!, depth + 1)
      }
      case 'number': {
        if (def.coerce) return false
        const out: number[] = []
        for (const check of checks) {
          const c = check._zod.def as CheckDef
          if (c.check === 'number_format' && c.format === 'safeint') out.push(1, 0, 0)
          else if (c.check === 'greater_than' && typeof c.value === 'number') out.push(2, c.value, c.inclusive ? 1 : 0)
          else if (c.check === 'less_than' && typeof c.value === 'number') out.push(3, c.value, c.inclusive ? 1 : 0)
          else return false
        }
        program.push(KIND.number, out.length / 3, ...out)
        return true
      }
      case 'string': {
        if (def.coerce) return false
        let format = 0
        if (def.format !== undefined) {
          if (def.format !== 'datetime' || def.pattern?.source !== ISO_DATETIME_SOURCE || def.pattern.flags !== '') return false
          format = 1
        }
        const bounds = lengthBounds(checks)
        if (!bounds) return false
        program.push(KIND.string, ...bounds, format)
        return true
      }
      case 'nullable':
        if (checks.length) return false
        program.push(KIND.nullable, program.length + 2)
        return emit(def.innerType!, depth + 1)
      case 'boolean':
        if (def.coerce || checks.length) return false
        program.push(KIND.boolean)
        return true
      default:
        // Unions, literals, transforms and the rest: JSON.parse and zod.
        return false
    }
  }
  return emit(schema, 0) ? { program: Float64Array.from(program), keys: Uint8Array.from(keys) } : null
}

/** An array's or string's length checks as [min, max] (-1: none), or null for any other check. */
function lengthBounds(checks: NonNullable<Def['checks']>): [number, number] | null {
  let min = -1
  let max = -1
  for (const check of checks) {
    const c = check._zod.def as CheckDef
    if (c.check === 'min_length') min = Math.max(min, c.minimum!)
    else if (c.check === 'max_length') max = max < 0 ? c.maximum! : Math.min(max, c.maximum!)
    else return null
  }
  return [min, max]
}

/** The regex of zod's `z.iso.datetime()` with its defaults, which the C checker implements by hand. */
export const ISO_DATETIME_SOURCE =
  '^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z))$'

const KIND = { object: 1, array: 2, number: 3, string: 4, nullable: 5, boolean: 6 } as const

interface Def {
  type: string
  checks?: { _zod: { def: unknown } }[]
  shape?: Record<string, z.ZodType>
  catchall?: unknown
  element?: z.ZodType
  innerType?: z.ZodType
  coerce?: boolean
  format?: string
  pattern?: RegExp
}

interface CheckDef {
  check: string
  format?: string
  value?: unknown
  inclusive?: boolean
  minimum?: number
  maximum?: number
}

interface PayloadCheckAddon {
  compile(program: Float64Array, keys: Uint8Array): object
  check(schema: object, payload: Uint8Array): boolean
}

/**
 * A native check of `schema`'s payloads: true when the bytes are certainly valid JSON the schema
 * accepts; false when they are not, or may not be (the caller then asks JSON.parse and zod). Null
 * when the addon is not built (`npm run build:native`) or the schema is beyond it.
 */
export function nativePayloadCheck(schema: z.ZodType): ((payload: Uint8Array) => boolean) | null {
  const status = nativeAddon<PayloadCheckAddon>('payload_check')
  const compiled = status.available ? compileSchemaProgram(schema) : null
  if (!status.available || !compiled) return null
  const { check } = status.addon
  const handle = status.addon.compile(compiled.program, compiled.keys)
  return (payload) => check(handle, payload)
}
