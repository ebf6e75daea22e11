import { formatTokenAmount } from '../../protocol/units.ts'
/**
 * Display helpers. Values arrive as integers (W, Wh, base units); only display turns them into decimals.
 * A number and its unit are joined by a no-break space so a narrow screen never splits them.
 */
const NBSP = '\u00a0'

export function formatWatts(w: number | null | undefined): string {
  if (w === null || w === undefined) return '–'
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(1)}${NBSP}kW` : `${w}${NBSP}W`
}

export function formatEnergyWh(wh: number): string {
  return wh >= 1000 ? `${(wh / 1000).toFixed(2)}${NBSP}kWh` : `${wh}${NBSP}Wh`
}

/** A price in token base units per kWh, shown in whole currency units per kWh. */
export function formatPrice(basePerKwh: number | null | undefined, decimals: number, symbol = ''): string {
  if (basePerKwh === null || basePerKwh === undefined) return '–'
  const unit = symbol ? `${symbol}/kWh` : '/kWh'
  // A plain space: on a phone the unit may go to the next line.
  return `${(basePerKwh / 10 ** decimals).toFixed(3)} ${unit}`
}

export function formatTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function shortHex(hex: string): string {
  return `${hex.slice(0, 8)}…${hex.slice(-4)}`
}

/** An amount in token base units, in whole currency units. */
export function formatMoney(baseUnits: number, decimals: number, symbol = ''): string {
  return `${(baseUnits / 10 ** decimals).toFixed(Math.min(decimals, 4))}${symbol ? `${NBSP}${symbol}` : ''}`
}

/** Exact base units (a decimal string or bigint from the API) in the token's units, cut to at most 4 decimals. */
export function formatBaseUnits(baseUnits: string | bigint, decimals: number, symbol = ''): string {
  const text = formatTokenAmount(BigInt(baseUnits), decimals)
  const shown = decimals > 4 ? text.slice(0, text.length - (decimals - 4)) : text
  return `${shown}${symbol ? `${NBSP}${symbol}` : ''}`
}

/** A share 0–1 as a whole percentage. */
export function formatShare(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}${NBSP}%`
}
