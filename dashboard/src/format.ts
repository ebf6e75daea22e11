/** Display helpers. Values arrive as integers (W, Wh, base units); only display turns them into decimals. */

export function formatWatts(w: number | null | undefined): string {
  if (w === null || w === undefined) return '–'
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(1)} kW` : `${w} W`
}

export function formatEnergyWh(wh: number): string {
  return wh >= 1000 ? `${(wh / 1000).toFixed(2)} kWh` : `${wh} Wh`
}

/** A price in token base units per kWh, shown in whole currency units per kWh. */
export function formatPrice(basePerKwh: number | null | undefined, decimals: number): string {
  if (basePerKwh === null || basePerKwh === undefined) return '–'
  return `${(basePerKwh / 10 ** decimals).toFixed(3)} /kWh`
}

export function formatTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function shortHex(hex: string): string {
  return `${hex.slice(0, 8)}…${hex.slice(-4)}`
}
