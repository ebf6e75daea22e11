import { z } from 'zod'

export const batteryLimitsSchema = z
  .object({
    /** Most the agent asks of the battery either way, W; the device's own maximum applies too. */
    maxW: z.number().int().positive(),
    /** Never discharge below this state of charge, %. */
    socFloorPct: z.number().min(0).max(100).default(10),
    /** Never charge above this state of charge, %. */
    socCeilingPct: z.number().min(0).max(100).default(95),
    /** Usable capacity, Wh: lets the forecast count on the battery to cover the home's own evening. */
    capacityWh: z.number().int().positive().optional(),
  })
  .strict()
  .refine((l) => l.socCeilingPct > l.socFloorPct, { message: 'socCeilingPct must be above socFloorPct', path: ['socCeilingPct'] })
export type BatteryLimits = z.infer<typeof batteryLimitsSchema>

export interface DeliveryState {
  /** The award's net energy for this interval, Wh: positive = sold to neighbours, negative = bought. */
  awardNetWh: number
  /** Net energy exported since the interval began (export − import), Wh. */
  deliveredWh: number
  /** Seconds left in the interval. */
  secondsLeft: number
  pvW: number
  loadW: number
  socPct: number | null
}

/**
 * The battery power (W, positive = discharge) that makes the home's grid exchange deliver what it was
 * awarded by the end of the interval: the rest of the award spread over the seconds left, with solar
 * and load as they are now, within the power limit and the state-of-charge floor and ceiling. A sale
 * the sun covers lets the battery take only the surplus beyond it, so self-consumption never eats a
 * sale; a purchase lets the battery charge from it. Pure.
 *
 * @example
 * batterySetpointW({ awardNetWh: 100, deliveredWh: 0, secondsLeft: 900, pvW: 0, loadW: 500, socPct: 60 }, { maxW: 3000, socFloorPct: 10, socCeilingPct: 95 })
 * // 900: 400 W of export for the award plus the home's own 500 W
 */
export function batterySetpointW(state: DeliveryState, limits: BatteryLimits): number {
  return steeringSetpointW(state.awardNetWh - state.deliveredWh, state.secondsLeft, state.pvW, state.loadW, state.socPct ?? Number.NaN, limits.maxW, limits.socFloorPct, limits.socCeilingPct)
}

/**
 * `batterySetpointW` on plain numbers (`socPct` NaN = unknown), so the study steers 10,000 batteries
 * an interval with the agent's own rule and no object per home.
 */
export function steeringSetpointW(remainingWh: number, secondsLeft: number, pvW: number, loadW: number, socPct: number, maxW: number, floorPct: number, ceilingPct: number): number {
  // grid = load − pv − battery (positive = import), so a grid target sets the battery.
  const targetGridW = (-remainingWh * 3600) / Math.max(1, secondsLeft)
  let w = loadW - pvW - targetGridW
  w = Math.max(-maxW, Math.min(maxW, w))
  if (socPct <= floorPct) w = Math.min(0, w)
  if (socPct >= ceilingPct) w = Math.max(0, w)
  return Math.round(w)
}
