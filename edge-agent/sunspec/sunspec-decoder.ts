import { VppError } from '../../protocol/errors.ts'
import { decodePoint, type RawPointValue } from './point-codec.ts'
import type { SunSpecGroup, SunSpecModelTable } from './sunspec-types.ts'

/** A decoded point: scaled number, string, or null when not implemented (or its scale factor is not). */
export type PointValue = number | string | null

export interface DecodedGroup {
  name: string
  values: Record<string, PointValue>
  /** Raw, unscaled values (bigint for 64-bit types), for callers that need exact integers. */
  raw: Record<string, RawPointValue>
  groups: Record<string, DecodedGroup[]>
}

export interface DecodedModel extends DecodedGroup {
  id: number
  length: number
}

/** SunSpec scale factors are limited to 10^-10 … 10^10 (Information Model Specification, sunssf). */
const SF_MIN = -10
const SF_MAX = 10

/**
 * Decodes one model's registers, starting at its ID register, against a model table. Handles fixed
 * groups, repeating groups (counted by a point, or filling the model length), nested groups,
 * scale factors from the same or an enclosing group, and "not implemented" sentinels.
 *
 * @example
 * const model = decodeModel(sunspecModelTables[103], registers)
 * model.values.W // 2450 (W, scale factor applied)
 */
export function decodeModel(table: SunSpecModelTable, regs: ArrayLike<number>): DecodedModel {
  const id = regs[0]
  const length = regs[1]
  if (id !== table.id) throw new VppError('VPP_ERR_SUNSPEC_MODEL', `expected model ${table.id} but the ID register holds ${id}`)
  if (length === undefined || regs.length < length + 2) {
    throw new VppError('VPP_ERR_SUNSPEC_MODEL', `model ${table.id} declares length ${length} but only ${regs.length - 2} registers were read`)
  }
  const end = length + 2
  const { group } = decodeGroup(table.group, regs, 0, end, [])
  return { id: table.id, length, ...group }
}

function decodeGroup(
  def: SunSpecGroup,
  regs: ArrayLike<number>,
  start: number,
  end: number,
  scopes: DecodedGroup[],
): { group: DecodedGroup; next: number } {
  const group: DecodedGroup = { name: def.name, values: {}, raw: {}, groups: {} }
  let at = start
  for (const p of def.points) {
    if (at + p.size > end) {
      throw new VppError('VPP_ERR_SUNSPEC_MODEL', `point ${def.name}.${p.name} runs past the end of the model (register ${at + p.size} > ${end})`)
    }
    group.raw[p.name] = decodePoint(p.type, regs, at, p.size)
    at += p.size
  }
  const chain = [group, ...scopes]
  for (const p of def.points) {
    const raw = group.raw[p.name]!
    group.values[p.name] = p.sf === undefined || raw === null || typeof raw === 'string' ? toPlain(raw) : scaled(raw, resolveScale(p.sf, chain))
  }
  for (const sub of def.groups ?? []) {
    const instances: DecodedGroup[] = []
    const count = instanceCount(sub, chain)
    for (let i = 0; count === 'fill' ? at < end : i < count; i++) {
      const decoded = decodeGroup(sub, regs, at, end, chain)
      instances.push(decoded.group)
      if (decoded.next === at) break
      at = decoded.next
    }
    group.groups[sub.name] = instances
  }
  return { group, next: at }
}

function instanceCount(def: SunSpecGroup, chain: DecodedGroup[]): number | 'fill' {
  if (def.count === undefined) return 1
  if (def.count === 0) return 'fill'
  if (typeof def.count === 'number') return def.count
  const n = lookup(def.count, chain)
  return typeof n === 'number' ? n : 0
}

function resolveScale(sf: string | number, chain: DecodedGroup[]): number | null {
  const exponent = typeof sf === 'number' ? sf : lookup(sf, chain)
  if (typeof exponent !== 'number' || exponent < SF_MIN || exponent > SF_MAX) return null
  return exponent
}

function lookup(name: string, chain: DecodedGroup[]): RawPointValue | undefined {
  for (const g of chain) if (name in g.raw) return g.raw[name]
  return undefined
}

function scaled(raw: number | bigint, exponent: number | null): number | null {
  if (exponent === null) return null
  const v = Number(raw)
  // Divide for negative exponents: 1234 / 10 is exact where 1234 * 0.1 is not.
  return exponent < 0 ? v / 10 ** -exponent : v * 10 ** exponent
}

function toPlain(raw: RawPointValue): PointValue {
  return typeof raw === 'bigint' ? Number(raw) : raw
}

/** Total register length of a model table's fixed part (the ID and L registers excluded), as written in L. */
export function fixedLength(table: SunSpecModelTable): number {
  return table.group.points.reduce((n, p) => n + p.size, 0) - 2
}
