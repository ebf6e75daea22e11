import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodePoint, encodePoint } from '../../edge-agent/sunspec/point-codec.ts'
import { decodeModel } from '../../edge-agent/sunspec/sunspec-decoder.ts'
import { sunspecModelTables } from '../../edge-agent/sunspec/model-tables.ts'
import type { SunSpecPointType } from '../../edge-agent/sunspec/sunspec-types.ts'
import { tableFromJson } from '../../scripts/generate-sunspec-tables.ts'
import { SHARED_MODELS_DIR, haveSharedModels } from '../helpers/shared-models.ts'

describe('point codec', () => {
  const sentinels: [SunSpecPointType, number[]][] = [
    ['int16', [0x8000]],
    ['uint16', [0xffff]],
    ['enum16', [0xffff]],
    ['bitfield16', [0xffff]],
    ['acc16', [0]],
    ['sunssf', [0x8000]],
    ['int32', [0x8000, 0]],
    ['uint32', [0xffff, 0xffff]],
    ['acc32', [0, 0]],
    ['enum32', [0xffff, 0xffff]],
    ['bitfield32', [0xffff, 0xffff]],
    ['float32', [0x7fc0, 0]],
    ['int64', [0x8000, 0, 0, 0]],
    ['uint64', [0xffff, 0xffff, 0xffff, 0xffff]],
    ['acc64', [0, 0, 0, 0]],
    ['string', [0, 0, 0, 0]],
  ]
  it.each(sentinels)('%s "not implemented" %j decodes to null', (type, regs) => {
    expect(decodePoint(type, regs, 0, regs.length)).toBeNull()
  })

  it.each([
    ['int16', -1234, 1],
    ['uint16', 65534, 1],
    ['int32', -2_000_000_000, 2],
    ['uint32', 4_000_000_000, 2],
    ['acc32', 123_456_789, 2],
    ['float32', 1.5, 2],
    ['uint64', 2n ** 63n + 5n, 4],
    ['int64', -(2n ** 40n), 4],
    ['string', 'SunSpec', 8],
  ] as [SunSpecPointType, number | bigint | string, number][])('%s round-trips %s', (type, value, size) => {
    const regs = encodePoint(type, value, size)
    expect(regs).toHaveLength(size)
    expect(decodePoint(type, regs, 0, size)).toEqual(value)
  })

  it('decodes int16 two-complement and big-endian 32-bit words', () => {
    expect(decodePoint('int16', [0xfffe], 0, 1)).toBe(-2)
    expect(decodePoint('uint32', [0x0001, 0x0002], 0, 2)).toBe(65538)
  })
})

describe('decodeModel', () => {
  it('applies scale factors and maps sentinels to null (model 103)', () => {
    const table = sunspecModelTables[103]!
    const values: Record<string, number | string | null> = { W: 12345, W_SF: -1, WH: 1000, WH_SF: 3, DCW: 5000, DCW_SF: 0x8000 }
    const regs = buildRegisters(table.group.points, (name) => values[name] ?? null, 103)
    const model = decodeModel(table, regs)
    expect(model.values.W).toBe(1234.5)
    expect(model.values.WH).toBe(1_000_000)
    // DCW is present but its scale factor is "not implemented": the value cannot be interpreted.
    expect(model.values.DCW).toBeNull()
    expect(model.values.A).toBeNull()
  })

  it('refuses a register block that is shorter than the declared length', () => {
    const table = sunspecModelTables[1]!
    expect(() => decodeModel(table, [1, 66, 0, 0])).toThrow(/declares length 66/)
  })

  it('refuses a block whose ID register is another model', () => {
    expect(() => decodeModel(sunspecModelTables[1]!, [103, 0])).toThrow(/expected model 1/)
  })
})

interface JsonPoint { name: string; type: SunSpecPointType; size: number; sf?: string | number }
interface JsonGroup { name: string; count?: number | string; points: JsonPoint[]; groups?: JsonGroup[] }

/** Registers for a point list, values from `valueOf` (null → sentinel). ID and L are set from the model. */
function buildRegisters(points: JsonPoint[], valueOf: (name: string) => number | string | null, id: number, length?: number): number[] {
  const regs: number[] = []
  for (const p of points) {
    const v = p.name === 'ID' ? id : p.name === 'L' ? (length ?? points.reduce((n, q) => n + q.size, 0) - 2) : valueOf(p.name)
    regs.push(...encodePoint(p.type, v, p.size))
  }
  return regs
}

describe.skipIf(!haveSharedModels)('decoder against every official SunSpec model in ../shared/sunspec-models', () => {
  const files = haveSharedModels ? readdirSync(SHARED_MODELS_DIR).filter((f) => /^model_\d+\.json$/.test(f)) : []

  it('covers every model the issue names', () => {
    const ids = files.map((f) => Number(/\d+/.exec(f)![0]))
    for (const id of [1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124, 160, 201, 202, 203, 204, 701, 702, 703, 704, 705, 802, 803, 804]) {
      expect(ids).toContain(id)
      expect(sunspecModelTables[id], `table for model ${id}`).toBeDefined()
    }
  })

  it.each(files)('%s: the project table matches the official definition', (file) => {
    const json = JSON.parse(readFileSync(join(SHARED_MODELS_DIR, file), 'utf8'))
    expect(sunspecModelTables[json.id]).toEqual(tableFromJson(json))
  })

  it.each(files)('%s: every point decodes to the value written, scaled, with two instances of each repeating group', (file) => {
    const json = JSON.parse(readFileSync(join(SHARED_MODELS_DIR, file), 'utf8')) as { id: number; group: JsonGroup }
    const expected: { path: string; value: number | string | null }[] = []
    const regs: number[] = []
    // Written independently of the decoder: walk the official JSON, give every point a distinct
    // in-range value (scale factors -2…2, counts 2), and compute what the decoder must return.
    // Points that hold a repeating group's count may be typed uint16 (e.g. 803 NStr), not `count`.
    const countPoints = new Set<string>()
    const collectCounts = (g: JsonGroup) => {
      for (const sub of g.groups ?? []) {
        if (typeof sub.count === 'string') countPoints.add(sub.count)
        collectCounts(sub)
      }
    }
    collectCounts(json.group)
    const writeGroup = (g: JsonGroup, path: string, scope: Map<string, number>[]) => {
      const local = new Map<string, number>()
      const chain = [local, ...scope]
      const raws = g.points.map((p, i): number | string | null => {
        if (p.name === 'ID') return json.id
        if (p.name === 'L') return 0 // patched below once the length is known
        if (p.type === 'sunssf') return (i % 5) - 2
        if (p.type === 'count' || countPoints.has(p.name)) return 2
        if (p.type === 'pad') return null
        if (p.type === 'string') return p.name.slice(0, p.size * 2)
        if (p.type === 'float32') return 1.25 + i
        if (p.type === 'int16') return -(100 + i)
        if (/^(acc|uint|int|enum|bitfield)/.test(p.type)) return 200 + i
        return null
      })
      g.points.forEach((p, i) => {
        const raw = raws[i]!
        if (typeof raw === 'number' && (p.type === 'sunssf' || p.type === 'count' || countPoints.has(p.name))) local.set(p.name, raw)
        regs.push(...encodePoint(p.type, raw, p.size))
      })
      // Expected values only once the whole group is written: scale factors follow the points they scale.
      g.points.forEach((p, i) => {
        if (p.name === 'ID' || p.name === 'L') return
        const raw = raws[i]!
        let value: number | string | null = raw
        if (p.sf !== undefined && typeof raw === 'number') {
          const sf = typeof p.sf === 'number' ? p.sf : chain.find((m) => m.has(p.sf as string))?.get(p.sf as string)
          value = sf === undefined ? null : sf < 0 ? raw / 10 ** -sf : raw * 10 ** sf
        }
        expected.push({ path: `${path}${p.name}`, value })
      })
      for (const sub of g.groups ?? []) {
        const count = sub.count === undefined ? 1 : 2
        for (let k = 0; k < count; k++) writeGroup(sub, `${path}${sub.name}[${k}].`, chain)
      }
    }
    writeGroup(json.group, '', [])
    regs[1] = regs.length - 2

    const model = decodeModel(sunspecModelTables[json.id]!, regs)
    const get = (path: string): unknown => {
      let node: { values: Record<string, unknown>; groups: Record<string, unknown[]> } = model
      const parts = path.split('.')
      for (const part of parts.slice(0, -1)) {
        const [, name, index] = /^(.+)\[(\d+)\]$/.exec(part)!
        node = node.groups[name!]![Number(index)] as typeof node
      }
      return node.values[parts[parts.length - 1]!]
    }
    for (const { path, value } of expected) {
      if (typeof value === 'number') expect(get(path), path).toBeCloseTo(value, 6)
      else expect(get(path), path).toEqual(value)
    }
  })
})
