import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { editJson, jsonPaths } from '../helpers/json-paths.ts'
import { telemetrySnapshot as snapshot } from '../helpers/telemetry-snapshot.ts'
import { z } from 'zod'
import { compileSchemaProgram, ISO_DATETIME_SOURCE, nativePayloadCheck } from '../../broker/native-payload-check.ts'
import { agentPayloadSchemas } from '../../broker/payload-policy.ts'
import { nativeAddon } from '../../platform/native-addon.ts'

/** What JSON.parse of the UTF-8 text and the schema say, the authority the native check answers to. */
function accepted(schema: z.ZodType, bytes: Uint8Array): boolean {
  try {
    return schema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8'))).success
  } catch {
    return false
  }
}

/** Inside the subset the native check reads (ASCII, no escapes), it must also accept all that is valid. */
const inSubset = (text: string) => !/[\\\u0080-\uffff]/.test(text)

function native(schema: z.ZodType): (payload: Uint8Array) => boolean {
  const check = nativePayloadCheck(schema)
  // CI builds the addon (npm test runs npm run build first): its absence is a failure here, not a skip.
  if (!check) throw new Error('payload_check.node not built or schema refused: run npm run build:native')
  return check
}

const telemetry = agentPayloadSchemas.telemetry!
const checkTelemetry = native(telemetry)
const validTelemetry = { seq: 1_763_900_000_123_456, samples: [snapshot, { ...snapshot, ts: '2024-02-29T23:59:59Z', models: [] }] }

const edges: unknown[] = [
  0, -0, 1, -1, 0.5, 1e-7, 99.99999999999999, 100, 100.00000000000001, 100.5, 101, 0xfffe, 0xffff, 10_000_000, 10_000_001, -10_000_000, -10_000_001,
  2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e300, -1e300, 5e-324,
  true, false, null, '', [], {}, [1], 'x'.repeat(64), 'x'.repeat(65), 'é', '\u{1F600}'.repeat(33), 'a\\b', 'a"b',
  '2026-11-23T12:00:00Z', '2026-11-23T12:00:00.1Z', '2026-11-23T12:00:00.Z', '2026-11-23T12:00:00+01:00', '2026-11-23 12:00:00Z', '2026-13-23T12:00:00Z',
  '2023-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T12:60:00Z', '2026-11-23T12:00:00z',
]

describe('native payload check (broker/native/payload-check.c): never accepts what the schema refuses', () => {
  it('compiles the telemetry schema and leaves the schemas it cannot express to zod', () => {
    expect(compileSchemaProgram(telemetry)).not.toBeNull()
    // Unions, transforms (orders, meter readings, state's address), refinements, strict objects, other formats.
    for (const channel of ['orders', 'meter', 'state']) expect(compileSchemaProgram(agentPayloadSchemas[channel]!)).toBeNull()
    expect(compileSchemaProgram(z.object({ a: z.number() }).refine((v) => v.a > 1))).toBeNull()
    expect(compileSchemaProgram(z.strictObject({ a: z.number() }))).toBeNull()
    expect(compileSchemaProgram(z.object({ a: z.number() }).passthrough())).toBeNull()
    expect(compileSchemaProgram(z.object({ e: z.email() }))).toBeNull()
    expect(compileSchemaProgram(z.object({ d: z.iso.datetime({ offset: true }) }))).toBeNull()
    expect(compileSchemaProgram(z.object({ n: z.number().multipleOf(5) }))).toBeNull()
    expect(compileSchemaProgram(z.object({ n: z.coerce.number() }))).toBeNull()
    expect(compileSchemaProgram(z.object({ l: z.literal(1) }))).toBeNull()
    // The check implements zod's own datetime regex by hand: if zod ever changes it, this says so.
    expect(z.iso.datetime()._zod.def.pattern!.source).toBe(ISO_DATETIME_SOURCE)
  })

  it('refuses a malformed program at compile time, before it could read out of bounds', () => {
    const status = nativeAddon<{ compile(program: Float64Array, keys: Uint8Array): object }>('payload_check')
    if (!status.available) throw new Error(status.reason)
    const { compile } = status.addon
    const good = compileSchemaProgram(z.object({ a: z.array(z.number()) }))!
    expect(compile(good.program, good.keys)).toBeTypeOf('object')
    // A child past the end; a key past the key bytes; a kind that does not exist; a truncated number node.
    const childPastEnd = Float64Array.from(good.program)
    childPastEnd[4] = good.program.length + 10
    const keyPastEnd = Float64Array.from(good.program)
    keyPastEnd[3] = 5
    for (const [program, keys] of [[childPastEnd, good.keys], [keyPastEnd, good.keys], [Float64Array.of(9), good.keys], [Float64Array.of(3, 2, 1, 0), good.keys]] as const) {
      expect(() => compile(program, keys)).toThrow(/malformed schema program/)
    }
  })

  it('accepts valid telemetry, and refuses each value near an edge exactly where the schema does', () => {
    expect(checkTelemetry(Buffer.from(JSON.stringify(validTelemetry)))).toBe(true)
    let cases = 0
    for (const path of jsonPaths(validTelemetry)) {
      for (const value of edges) {
        const text = JSON.stringify(editJson(validTelemetry, path, value))
        const bytes = Buffer.from(text)
        const schema = accepted(telemetry, bytes)
        const here = checkTelemetry(bytes)
        if (here) expect(schema, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(true)
        if (inSubset(text)) expect(here, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(schema)
        cases++
      }
    }
    expect(cases).toBeGreaterThan(2000)
  })

  it('reads numbers as JSON.parse does: random decimals and doubles at every numeric bound', () => {
    // Decimal texts of up to 25 digits with fractions and exponents, and doubles as JavaScript prints them.
    const decimal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/), fc.option(fc.stringMatching(/^[0-9]{1,25}$/)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 }))))
      .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`)
    const near = (bound: number) => fc.double({ min: bound - 2, max: bound + 2, noNaN: true }).map((x) => JSON.stringify(x))
    const number = fc.oneof(decimal, near(0), near(100), near(10_000_000), near(-10_000_000), near(2 ** 53), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)))
    const place = fc.constantFrom('seq', 'battery_soc_pct', 'grid_w', 'pv_total_wh', 'models')
    fc.assert(
      fc.property(number, place, (n, where) => {
        const s = JSON.stringify({ ...snapshot, battery_soc_pct: '#soc', grid_w: '#grid', energy: { ...snapshot.energy, pv_total_wh: '#pv' }, models: ['#m'] })
        const sample = s.replace('"#soc"', where === 'battery_soc_pct' ? n : '54.2').replace('"#grid"', where === 'grid_w' ? n : '-2500').replace('"#pv"', where === 'pv_total_wh' ? n : '7').replace('"#m"', where === 'models' ? n : '1')
        const bytes = Buffer.from(`{"seq":${where === 'seq' ? n : '5'},"samples":[${sample}]}`)
        expect(checkTelemetry(bytes)).toBe(accepted(telemetry, bytes))
      }),
      { numRuns: 4000 },
    )
  })

  it('reads timestamps as zod’s datetime regex does', () => {
    const regex = new RegExp(ISO_DATETIME_SOURCE)
    const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`))
    const plausible = fc
      .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), fc.option(fc.stringMatching(/^[0-9]{0,4}$/)), fc.constantFrom('Z', 'z', '', '+00:00', 'ZZ'), fc.constantFrom('-', '/'), fc.constantFrom('T', ' ', 't'))
      .map(([y, mo, d, h, mi, s, frac, zone, sep, t]) => `${y}${sep}${mo}${sep}${d}${t}${h}:${mi}:${s}${frac === null ? '' : `.${frac}`}${zone}`)
    const leapish = fc.tuple(digits(2), fc.constantFrom('00', '04', '08', '12', '20', '96', '01', '02', '10', '50')).map(([c, y]) => `${c}${y}-02-29T00:00:00Z`)
    const arbitrary = fc.stringMatching(/^[0-9TZ:.\-]{0,30}$/)
    fc.assert(
      fc.property(fc.oneof(plausible, leapish, arbitrary), (ts) => {
        const bytes = Buffer.from(JSON.stringify({ seq: 1, samples: [{ ...snapshot, ts }] }))
        expect(checkTelemetry(bytes)).toBe(regex.test(ts))
      }),
      { numRuns: 5000 },
    )
  })

  it('never accepts bytes the schema refuses: random edits of a valid payload’s bytes', () => {
    const base = Buffer.from(JSON.stringify(validTelemetry))
    // Bytes that matter to JSON, and some that do not belong to it at all.
    const byte = fc.constantFrom(...Buffer.from('{}[]",:0123456789.-+eE \t\n\r\\utrfalsnxZT'), 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xef, 0xbb, 0xbf, 0xff)
    const change = fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'), bytes: fc.array(byte, { minLength: 1, maxLength: 3 }) })
    let acceptedByBoth = 0
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 3 }), (changes) => {
        let bytes = base
        for (const c of changes) {
          const at = c.at % (bytes.length + 1)
          const insert = Buffer.from(c.bytes)
          if (c.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)])
          else if (c.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + c.bytes.length)])
          else if (c.kind === 'replace') bytes = Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at + insert.length)])
          // A member written twice: JSON.parse keeps the last.
          else bytes = Buffer.from(bytes.toString('latin1').replace('{"seq":', `{"seq":${c.bytes.length > 1 ? -1 : 1},"seq":`), 'latin1')
        }
        const here = checkTelemetry(bytes)
        if (here) {
          expect(accepted(telemetry, bytes)).toBe(true)
          acceptedByBoth++
        }
      }),
      { numRuns: 6000 },
    )
    // Edits inside numbers and strings that keep the payload valid are accepted, not all refused.
    expect(acceptedByBoth).toBeGreaterThan(50)
  })

  it('equals zod on every kind it compiles, beyond what telemetry uses', () => {
    const schema = z.object({
      flag: z.boolean(),
      name: z.string().min(2).max(5).optional(),
      count: z.number().positive().lt(10),
      list: z.array(z.number().int().gt(-3)).min(1).max(3).nullable(),
      nested: z.object({ at: z.iso.datetime().nullable().optional() }),
    })
    expect(compileSchemaProgram(schema)).not.toBeNull()
    const check = native(schema)
    const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ arbitrary: good, weight: 5 }, { arbitrary: bad, weight: 1 })
    const value = fc.record(
      {
        flag: mostly(fc.boolean(), fc.constantFrom(0, 'true', null)),
        name: mostly(fc.oneof(fc.string({ maxLength: 6 }), fc.string({ maxLength: 3, unit: 'grapheme' })), fc.constantFrom(null, 5, 'é', 'éé')),
        count: mostly(fc.double({ min: -1, max: 11, noNaN: true }), fc.constantFrom(0, 10, 9.999999999999998, '3')),
        list: mostly(fc.array(mostly(fc.integer({ min: -4, max: 3 }), fc.constantFrom(0.5, '1', null)), { maxLength: 4 }), fc.constantFrom(null, {}, 'x')),
        nested: mostly(fc.record({ at: fc.constantFrom('2026-11-23T12:00:00Z', '2026-11-23T12:00:00', null, 7) }, { requiredKeys: [] }), fc.constantFrom(null, [], 'x')),
        other: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['flag', 'count', 'list', 'nested'] },
    )
    let valid = 0
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify(v)
        const bytes = Buffer.from(text)
        const schemaSays = accepted(schema, bytes)
        const here = check(bytes)
        if (here) expect(schemaSays).toBe(true)
        if (inSubset(text)) expect(here).toBe(schemaSays)
        if (schemaSays) valid++
      }),
      { numRuns: 5000 },
    )
    expect(valid).toBeGreaterThan(100)
  })
})
