import type { DecodedModel, DecodedGroup } from '../sunspec/sunspec-decoder.ts'
import { encodePoint } from '../sunspec/point-codec.ts'
import type { MapTerm, RegisterTerm, SnapshotField, VendorMap } from './vendor-map.ts'

/** Registers a term needs: its value's words and, for a status-bit sign, the status word. */
export function wordsOf(type: RegisterTerm['type']): number {
  return type === 'int16' || type === 'uint16' ? 1 : 2
}

/** Where a term's registers are on the wire. */
export function registerKey(map: VendorMap, term: RegisterTerm, address = term.address): string {
  const unit = term.unit ?? map.defaults.unit
  const fn = term.function ?? map.defaults.function
  return `${unit}:${fn}:${address - map.defaults.addressing}`
}

/** The registers of a raw value of `type` in `wordOrder`: what `decodeRegister` reads back. Pure. */
export function encodeRegister(type: RegisterTerm['type'], raw: number, wordOrder: VendorMap['defaults']['wordOrder']): number[] {
  const words = encodePoint(type, raw, wordsOf(type))
  return words.length === 2 && wordOrder === 'low-first' ? [words[1]!, words[0]!] : words
}

/** A raw register value, or null for a "not available" sentinel when the map says so. Pure. */
export function decodeRegister(map: VendorMap, term: RegisterTerm, words: number[]): number | null {
  const order = term.wordOrder ?? map.defaults.wordOrder
  const [a = 0, b = 0] = words
  const [hi, lo] = order === 'high-first' ? [a, b] : [b, a]
  const u32 = hi * 0x10000 + lo
  const sentinels = map.defaults.sentinels
  switch (term.type) {
    case 'uint16':
      return sentinels && a === 0xffff ? null : a
    case 'int16':
      return sentinels && a === 0x8000 ? null : a >= 0x8000 ? a - 0x10000 : a
    case 'uint32':
      return sentinels && u32 === 0xffffffff ? null : u32
    case 'int32':
      return sentinels && u32 === 0x80000000 ? null : u32 >= 0x80000000 ? u32 - 0x100000000 : u32
    case 'float32': {
      const view = new DataView(new ArrayBuffer(4))
      view.setUint16(0, hi)
      view.setUint16(2, lo)
      const f = view.getFloat32(0)
      return Number.isFinite(f) ? f : null
    }
  }
}

/** A SunSpec point of the decoded models, by `model.point` or `model.group[i].point`. */
export function sunspecValue(models: DecodedModel[], path: string): number | null {
  const [modelId, ...rest] = path.split('.')
  const model = models.find((m) => m.id === Number(modelId))
  if (!model) return null
  let group: DecodedGroup | undefined = model
  if (rest.length === 2) {
    const [, name, index] = /^(\w+)\[(\d+)\]$/.exec(rest[0]!) ?? []
    group = name ? model.groups[name]?.[Number(index)] : undefined
  }
  const v = group?.values[rest.at(-1)!]
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/**
 * One field from its terms: the sum of the terms the device reports, null when it reports none of
 * them. `read` gives a register's words by its wire key. Pure.
 */
export function fieldValue(map: VendorMap, field: SnapshotField, read: (key: string, count: number) => number[] | undefined, models: DecodedModel[]): number | null {
  const terms: MapTerm[] = map.points[field] ?? []
  let sum = 0
  let present = 0
  for (const t of terms) {
    let v: number | null
    if ('sunspec' in t) v = sunspecValue(models, t.sunspec)
    else {
      const words = read(registerKey(map, t), wordsOf(t.type))
      v = words ? decodeRegister(map, t, words) : null
      if (v !== null && t.sign) {
        const status = read(registerKey(map, { ...t, type: 'uint16' }, t.sign.address), 1)?.[0] ?? 0
        v = status & t.sign.negativeMask ? -Math.abs(v) : status & t.sign.positiveMask ? Math.abs(v) : 0
      }
    }
    if (v === null) continue
    sum += v * t.scale
    present++
  }
  return present ? sum : null
}
