/**
 * Units and conversions. Energy is integer watt-hours; money is integer stablecoin base units (bigint);
 * prices are base units per kWh. Floats appear only for instantaneous power read off devices and are
 * rounded to whole watts at the edge.
 */

/** Wh in one kWh: prices are quoted per kWh, energy is counted in Wh. */
export const WH_PER_KWH = 1000n

/**
 * Energy in whole Wh delivered by a constant power over a duration.
 * @example energyWhFromPower(2000, 900) // 500
 */
export function energyWhFromPower(powerW: number, seconds: number): number {
  return Math.round((powerW * seconds) / 3600)
}

/**
 * What the buyer pays for `filledWh` at `pricePerKwh`: rounded up, so sellers are never short-changed
 * (docs/architecture.md "Orders and settlement").
 * @example buyerPaysBaseUnits(1n, 250000n) // 250n
 */
export function buyerPaysBaseUnits(filledWh: bigint, pricePerKwh: bigint): bigint {
  const product = filledWh * pricePerKwh
  return (product + WH_PER_KWH - 1n) / WH_PER_KWH
}

/**
 * What the seller receives for `filledWh` at `pricePerKwh`: rounded down.
 * @example sellerReceivesBaseUnits(3n, 333333n) // 999n
 */
export function sellerReceivesBaseUnits(filledWh: bigint, pricePerKwh: bigint): bigint {
  return (filledWh * pricePerKwh) / WH_PER_KWH
}

/**
 * `buyerPaysBaseUnits` on plain numbers, for hot loops over typed arrays (the study, the dashboard).
 * Exact while energy × price stays below 2^53: the quotient's fraction is then at least 0.001 from a
 * whole number, more than half a double's spacing there (2^-10), so rounding it cannot cross one.
 * @example buyerPaysBaseUnitsNumber(3, 333_333) // 1000
 */
export function buyerPaysBaseUnitsNumber(filledWh: number, pricePerKwh: number): number {
  return Math.ceil((filledWh * pricePerKwh) / 1000)
}

/**
 * `sellerReceivesBaseUnits` on plain numbers (see `buyerPaysBaseUnitsNumber`).
 * @example sellerReceivesBaseUnitsNumber(3, 333_333) // 999
 */
export function sellerReceivesBaseUnitsNumber(filledWh: number, pricePerKwh: number): number {
  return Math.floor((filledWh * pricePerKwh) / 1000)
}

/**
 * What a seller pays the buyer it left short by `shortfallWh` at the contract's imbalance price:
 * rounded down, so it stays within the seller's collateral for the fill, which is rounded up
 * (EnergySettlement.sol `_applyTrades`, one charge per trade).
 * @example imbalanceChargeBaseUnits(3n, 333_333n) // 999n
 */
export function imbalanceChargeBaseUnits(shortfallWh: bigint, imbalancePricePerKwh: bigint): bigint {
  return (shortfallWh * imbalancePricePerKwh) / WH_PER_KWH
}

/** `imbalanceChargeBaseUnits` on plain numbers (see `buyerPaysBaseUnitsNumber`). */
export function imbalanceChargeBaseUnitsNumber(shortfallWh: number, imbalancePricePerKwh: number): number {
  return Math.floor((shortfallWh * imbalancePricePerKwh) / 1000)
}

/** Start (unix seconds) of the interval that contains `unixSeconds`. */
export function intervalStart(unixSeconds: number, intervalSeconds: number): number {
  return Math.floor(unixSeconds / intervalSeconds) * intervalSeconds
}

/**
 * Parses a duration such as `15s`, `15m`, `1h`, `2d` or a bare number of seconds.
 * @example parseDurationSeconds('15m') // 900
 */
export function parseDurationSeconds(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not a duration: use a whole number with s, m, h or d, e.g. 15s, 15m or 24h`)
  const value = Number(match[1])
  const unit = match[2] ?? 's'
  return value * ({ d: 86_400, h: 3600, m: 60, s: 1 } as Record<string, number>)[unit]!
}

/**
 * A token amount as a person writes it ("25", "25.5", "0.000001") in base units of a token with
 * `decimals` decimals. Refuses more decimals than the token has, signs, exponents and grouping, rather
 * than round or guess.
 * @example parseTokenAmount('25.00', 6) // 25000000n
 */
export function parseTokenAmount(text: string, decimals: number): bigint {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not an amount: write it in the token's units, e.g. 25 or 25.50`)
  const fraction = match[2] ?? ''
  if (fraction.length > decimals) throw new Error(`"${text}" has more than the token's ${decimals} decimals`)
  return BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0')
}

/**
 * Base units as the token's units, every decimal the token has.
 * @example formatTokenAmount(25500000n, 6) // '25.500000'
 */
export function formatTokenAmount(baseUnits: bigint, decimals: number): string {
  const negative = baseUnits < 0n
  const abs = negative ? -baseUnits : baseUnits
  const unit = 10n ** BigInt(decimals)
  const whole = (abs / unit).toString()
  const fraction = decimals > 0 ? `.${(abs % unit).toString().padStart(decimals, '0')}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}
