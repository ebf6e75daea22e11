/**
 * Household electricity use in the shape of the German standard residential load profile (BDEW H0):
 * hourly shapes for weekdays, Saturdays and Sundays, in winter, summer and the seasons between, and
 * the profile's dynamisation polynomial for the day of the year. Values are average watts for a home
 * using 1,000 kWh a year; a study scales them to each home's own consumption.
 *
 * Source of the shape: VDEW/BDEW "Repräsentative VDEW-Lastprofile" (1999), H0, read off at whole
 * hours; the dynamisation factor F(d) = −3.92e−10 d⁴ + 3.2e−7 d³ − 7.02e−5 d² + 2.1e−3 d + 1.24.
 */

// Average W per 1,000 kWh/yr at each hour (00:00–23:00).
const WINTER = {
  weekday: [70, 55, 49, 46, 46, 50, 72, 110, 120, 110, 105, 112, 125, 118, 105, 100, 112, 150, 190, 195, 175, 150, 125, 95],
  saturday: [80, 62, 52, 48, 47, 48, 58, 82, 118, 140, 145, 150, 160, 148, 130, 120, 128, 160, 195, 198, 178, 155, 132, 102],
  sunday: [85, 66, 55, 50, 48, 48, 52, 66, 95, 135, 160, 175, 185, 160, 128, 115, 120, 150, 185, 190, 170, 148, 122, 95],
}
const SUMMER = {
  weekday: [68, 52, 45, 42, 42, 46, 62, 92, 100, 95, 95, 104, 115, 108, 96, 90, 96, 115, 135, 140, 140, 135, 115, 88],
  saturday: [75, 58, 48, 44, 43, 45, 52, 72, 100, 118, 124, 132, 142, 130, 112, 102, 106, 122, 138, 142, 140, 134, 118, 92],
  sunday: [80, 62, 51, 46, 44, 44, 47, 58, 82, 116, 138, 152, 162, 140, 110, 98, 100, 116, 134, 140, 138, 130, 112, 88],
}

export type DayType = 'weekday' | 'saturday' | 'sunday'

/** The profile's day type of a weekday (0 = Sunday, as `Date.getUTCDay`). */
export function dayTypeOf(weekday: number): DayType {
  return weekday === 0 ? 'sunday' : weekday === 6 ? 'saturday' : 'weekday'
}

/**
 * How far into summer a day is, for blending the winter and summer shapes: 0 at the local midwinter,
 * 1 at the local midsummer (flipped south of the equator).
 *
 * @example summerWeight(172, 52.5) // 1
 */
export function summerWeight(dayOfYear: number, latDeg: number): number {
  return (1 + Math.cos((2 * Math.PI * (dayOfYear - 172)) / 365) * (latDeg >= 0 ? 1 : -1)) / 2
}

/**
 * The day of the German year (what the BDEW dynamisation is for) in the same season: the day itself
 * north of the equator, half a year on south of it, where January is summer.
 *
 * @example seasonalDayOfYear(15, -33.9) // 197: a Sydney January uses the dynamisation of a German July
 */
export function seasonalDayOfYear(dayOfYear: number, latDeg: number): number {
  return latDeg >= 0 ? dayOfYear : (dayOfYear + 182) % 365
}

/** BDEW dynamisation factor for day-of-year `d` (1–366) of the German year: about 1.24 in January, 0.79 in August. */
export function dynamisation(d: number): number {
  return (((-3.92e-10 * d + 3.2e-7) * d - 7.02e-5) * d + 2.1e-3) * d + 1.24
}

/**
 * Average household power (W, for 1,000 kWh/yr) at `hour` (0–24, fractional: interpolated between
 * whole hours) of a day of the given type; `summerWeight` 0 = winter shape, 1 = summer shape.
 *
 * @example standardLoadW('weekday', 19, 0, 15) // ≈ 240 W: a January weekday evening
 */
export function standardLoadW(dayType: DayType, hour: number, summerWeight: number, dayOfYear: number): number {
  const h = ((hour % 24) + 24) % 24
  const i = Math.floor(h)
  const j = (i + 1) % 24
  const f = h - i
  const winter = WINTER[dayType]
  const summer = SUMMER[dayType]
  const shape = (winter[i]! * (1 - f) + winter[j]! * f) * (1 - summerWeight) + (summer[i]! * (1 - f) + summer[j]! * f) * summerWeight
  return shape * dynamisation(dayOfYear + 1)
}
