import { dayTypeOf, seasonalDayOfYear, standardLoadW, summerWeight } from './models/household-load.ts'

// The study's calendar: local time, the standard load profile's year and the heating season.

/** The standard profile's energy over a year at this resolution, kWh per "1,000 kWh" (to scale homes exactly). */
export function annualStandardKwh(startDate: string, intervalMinutes: number, latDeg: number): number {
  const start = Date.parse(`${startDate}T00:00:00Z`)
  const dtHours = intervalMinutes / 60
  let wh = 0
  for (let day = 0; day < 365; day++) {
    const date = new Date(start + day * 86_400_000)
    const dayOfYear = Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000)
    const dayType = dayTypeOf(date.getUTCDay())
    // The same seasons as the homes' days below, so a home's year comes to its kWh/yr in either hemisphere.
    const summer = summerWeight(dayOfYear, latDeg)
    const season = seasonalDayOfYear(dayOfYear, latDeg)
    for (let hour = dtHours / 2; hour < 24; hour += dtHours) wh += standardLoadW(dayType, hour, summer, season) * dtHours
  }
  return wh / 1000
}

/**
 * Each day's share of a year's heating (by heating degree days below 15 °C) for a climate whose
 * daily mean temperature follows the season: about 9 °C on average and ±9 °C at 52° latitude.
 */
export function heatingDegreeDays(latDeg: number): Float64Array {
  const amplitude = Math.min(14, Math.abs(latDeg) / 6)
  const mean = 25 - Math.abs(latDeg) / 3
  const hdd = Float64Array.from({ length: 365 }, (_, d) => Math.max(0, 15 - (mean - amplitude * Math.cos((2 * Math.PI * (d - 15)) / 365) * (latDeg >= 0 ? 1 : -1))))
  const total = hdd.reduce((a, b) => a + b, 0) || 1
  return hdd.map((v) => v / total)
}

/** The time zone's offset from UTC (minutes, DST included) at an instant, cached per day. */
export function utcOffsetMinutes(timeZone: string): (atMs: number) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
  const cache = new Map<number, number>()
  return (atMs) => {
    const key = Math.floor(atMs / 86_400_000)
    let offset = cache.get(key)
    if (offset === undefined) {
      const parts = Object.fromEntries(format.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]))
      const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute))
      offset = Math.round((asUtc - Math.floor(atMs / 60_000) * 60_000) / 60_000)
      cache.set(key, offset)
    }
    return offset
  }
}
