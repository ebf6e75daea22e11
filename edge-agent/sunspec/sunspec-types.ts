/** Point types of SunSpec information models (SunSpec Information Model Specification, "Point types"). */
export type SunSpecPointType =
  | 'int16' | 'uint16' | 'count' | 'acc16' | 'enum16' | 'bitfield16' | 'sunssf' | 'pad'
  | 'int32' | 'uint32' | 'acc32' | 'enum32' | 'bitfield32' | 'float32' | 'ipaddr'
  | 'int64' | 'uint64' | 'acc64' | 'float64' | 'ipv6addr' | 'eui48' | 'string'

export interface SunSpecPoint {
  name: string
  type: SunSpecPointType
  /** Size in 16-bit registers. */
  size: number
  /** Scale factor: the name of a `sunssf` point (same group or an enclosing one) or a fixed exponent. */
  sf?: string | number
  units?: string
  writable?: true
}

export interface SunSpecGroup {
  name: string
  /** Absent: exactly one instance. 0: repeat to fill the model length. A name: the `count` point holding the number. */
  count?: number | string
  points: SunSpecPoint[]
  groups?: SunSpecGroup[]
}

export interface SunSpecModelTable {
  id: number
  label: string
  group: SunSpecGroup
}
