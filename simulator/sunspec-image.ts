import { VppError } from '../protocol/errors.ts'
import { decodePoint, encodePoint, type RawPointValue } from '../edge-agent/sunspec/point-codec.ts'
import { fixedLength } from '../edge-agent/sunspec/sunspec-decoder.ts'
import type { SunSpecModelTable, SunSpecPoint } from '../edge-agent/sunspec/sunspec-types.ts'

/** "SunS" in two registers: the SunSpec marker (SunSpec Modbus spec, "Device Modbus map"). */
export const SUNS_MARKER = [0x5375, 0x6e53] as const
/** End model: ID 0xFFFF, length 0. */
export const END_MODEL = [0xffff, 0x0000] as const

interface PointSlot {
  address: number
  point: SunSpecPoint
}

/**
 * The holding-register image of a SunSpec device: the marker at `base`, a chain of models (fixed
 * groups only: a model's points, then its single-instance nested groups), and the end model. Values are raw register values (scale factors are points too);
 * points not given are "not implemented".
 */
export class SunSpecImage {
  readonly registers: number[]
  private readonly slots = new Map<string, PointSlot>()

  constructor(
    readonly base: number,
    models: { table: SunSpecModelTable; values: Record<string, RawPointValue> }[],
  ) {
    this.registers = [...SUNS_MARKER]
    for (const { table, values } of models) {
      // Nested groups with exactly one instance (model 704's PFWInj, …) follow the model's own points.
      const single = (table.group.groups ?? []).filter((g) => g.count === undefined)
      const length = fixedLength(table) + single.reduce((n, g) => n + g.points.reduce((m, p) => m + p.size, 0), 0)
      for (const point of table.group.points) {
        const address = base + this.registers.length
        this.slots.set(`${table.id}.${point.name}`, { address, point })
        const value = point.name === 'ID' ? table.id : point.name === 'L' ? length : (values[point.name] ?? null)
        this.registers.push(...encodePoint(point.type, value, point.size))
      }
      for (const group of single) {
        for (const point of group.points) {
          const name = `${group.name}.${point.name}`
          this.slots.set(`${table.id}.${name}`, { address: base + this.registers.length, point })
          this.registers.push(...encodePoint(point.type, values[name] ?? null, point.size))
        }
      }
    }
    this.registers.push(...END_MODEL)
  }

  /** Sets a point of a model to a raw value (null: not implemented). */
  set(modelId: number, pointName: string, value: RawPointValue): void {
    const slot = this.slot(modelId, pointName)
    const words = encodePoint(slot.point.type, value, slot.point.size)
    words.forEach((w, i) => (this.registers[slot.address - this.base + i] = w))
  }

  /** A point's raw value as the registers hold it now. */
  get(modelId: number, pointName: string): RawPointValue {
    const slot = this.slot(modelId, pointName)
    return decodePoint(slot.point.type, this.registers, slot.address - this.base, slot.point.size)
  }

  slot(modelId: number, pointName: string): PointSlot {
    const slot = this.slots.get(`${modelId}.${pointName}`)
    if (!slot) throw new VppError('VPP_ERR_SUNSPEC_MODEL', `the image has no point ${pointName} in model ${modelId}`)
    return slot
  }

  /** The writable point at `address`, if any: devices refuse writes anywhere else. */
  writablePointAt(address: number): (PointSlot & { key: string }) | undefined {
    for (const [key, slot] of this.slots) {
      if (slot.point.writable && address >= slot.address && address < slot.address + slot.point.size) return { key, ...slot }
    }
    return undefined
  }

  read(address: number, length: number): number[] | undefined {
    const from = address - this.base
    if (from < 0 || length < 1 || from + length > this.registers.length) return undefined
    return this.registers.slice(from, from + length)
  }
}
