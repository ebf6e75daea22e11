import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { editJson, jsonPaths } from '../helpers/json-paths.ts'
import { telemetrySnapshot } from '../helpers/telemetry-snapshot.ts'
import { agentPayloadSchemas, checkChannelPayload, type PayloadVerdict } from '../../broker/payload-policy.ts'

/** A valid payload on each checked channel: the starting points the mutations below work from. */
const valid: Record<string, unknown> = {
  telemetry: {
    seq: 17,
    samples: [telemetrySnapshot],
  },
  state: { online: true, session: 3, ts: '2026-11-23T12:00:00Z', address: `0x${'aB'.repeat(20)}` },
  orders: {
    order: { owner: `0x${'1'.repeat(40)}`, community: `0x${'Ab'.repeat(32)}`, interval: 1_800_000_000, side: 1, energyWh: 500, limitPrice: 120_000, nonce: 7 },
    signature: `0x${'3'.repeat(130)}`,
    replaces: `0x${'4'.repeat(64)}`,
  },
  meter: {
    reading: { owner: `0x${'1'.repeat(40)}`, community: `0x${'2'.repeat(64)}`, interval: 1_800_000_000, exportedWh: 0, importedWh: 812 },
    signature: `0x${'3'.repeat(130)}`,
  },
}

/** The verdict of the schema as written, interpreted: what the broker's (compiled) check must equal. */
function interpreted(channel: string, payload: Buffer): PayloadVerdict {
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not_json', detail: 'payload is not JSON' }
  }
  const result = agentPayloadSchemas[channel]!.safeParse(json)
  if (result.success) return { ok: true, channel, data: result.data }
  const issue = result.error.issues[0]!
  return { ok: false, reason: 'invalid_schema', detail: `${issue.path.join('.') || 'payload'}: ${issue.message}` }
}

/** Values near the schemas' edges: bounds of the integer and length checks, formats one character off. */
const edges: unknown[] = [
  ...[0, -0, 1, -1, 0.5, 100, 100.5, 101, 0xfffe, 0xffff, 10_000_000, 10_000_001, -10_000_000, -10_000_001, 3600, 2 ** 40, 2 ** 40 + 1, 2 ** 53 - 1, 2 ** 53, 1e300, -1e300],
  ...[true, false, null, '', [], {}, 'x'.repeat(64), 'x'.repeat(65), '2026-11-23T12:00:00Z', '2026-11-23T12:00:00+01:00', '2026-11-23 12:00:00', '2026-13-23T12:00:00Z'],
  ...[`0x${'a'.repeat(40)}`, `0x${'a'.repeat(39)}`, `0x${'g'.repeat(40)}`, `0x${'F'.repeat(64)}`, `0X${'f'.repeat(64)}`, `0x${'0'.repeat(130)}`, `0x${'0'.repeat(131)}`],
]
const edgy = fc.oneof(
  fc.constantFrom(...edges),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 70 }),
  fc.jsonValue({ maxDepth: 2 }),
)

const mutation = fc.record({
  channel: fc.constantFrom(...Object.keys(valid)),
  // Several edits at once, so a check that only fails beside another's failure is met too.
  edits: fc.array(fc.record({ pick: fc.nat(), kind: fc.constantFrom('replace', 'remove', 'add'), value: edgy, key: fc.constantFrom('extra', '__proto__', 'constructor', 'seq', 'ts') }), { minLength: 0, maxLength: 3 }),
})

describe('checkChannelPayload: the compiled schemas give the schemas’ own verdicts', () => {
  it('equals the interpreted schema on every checked channel for valid payloads and mutations of them', () => {
    let passed = 0
    let refused = 0
    fc.assert(
      fc.property(mutation, ({ channel, edits }) => {
        let value = valid[channel]
        for (const e of edits) {
          const all = jsonPaths(value)
          const path = all[e.pick % all.length]!
          if (e.kind === 'replace') value = editJson(value, path, e.value)
          else if (e.kind === 'remove') value = path.length ? editJson(value, path, undefined, true) : value
          else {
            const target = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value)
            if (target !== null && typeof target === 'object' && !Array.isArray(target)) value = editJson(value, path, { ...(target as object), [e.key]: e.value })
          }
        }
        const payload = Buffer.from(JSON.stringify(value) ?? 'undefined')
        const expected = interpreted(channel, payload)
        expect(checkChannelPayload(channel, payload)).toEqual(expected)
        if (expected.ok) passed++
        else refused++
      }),
      { numRuns: 3000 },
    )
    // Both sides of the verdict were exercised, not just refusals of broken payloads.
    expect(passed).toBeGreaterThan(300)
    expect(refused).toBeGreaterThan(300)
  })

  it('equals the interpreted schema for every value near an edge in every place of every channel’s payload', () => {
    let cases = 0
    for (const [channel, base] of Object.entries(valid)) {
      for (const path of jsonPaths(base)) {
        for (const value of edges) {
          const payload = Buffer.from(JSON.stringify(editJson(base, path, value)))
          expect(checkChannelPayload(channel, payload), `${channel} ${path.join('.')} = ${JSON.stringify(value)}`).toEqual(interpreted(channel, payload))
          cases++
        }
      }
    }
    expect(cases).toBeGreaterThan(1500)
  })

  it('strips unknown keys from a valid payload’s data, as the schema does', () => {
    const verdict = checkChannelPayload('telemetry', Buffer.from(JSON.stringify({ ...(valid.telemetry as object), extra: 1 })))
    expect(verdict).toEqual({ ok: true, channel: 'telemetry', data: valid.telemetry })
  })

  it('names the first failing field', () => {
    const bad = editJson(valid.telemetry, ['samples', 0, 'battery_soc_pct'], 100.5)
    expect(checkChannelPayload('telemetry', Buffer.from(JSON.stringify(bad)))).toEqual({ ok: false, reason: 'invalid_schema', detail: expect.stringMatching(/^samples\.0\.battery_soc_pct: /) })
  })
})
