/**
 * The one household model: what a home's PV makes, what it uses and what its battery does, given
 * the sky, the standard profile and a random draw. The live homes of `npm start` (home-model.ts,
 * stepped every few seconds in watts) and every home of `vpp simulate` (study-homes.ts, one interval
 * at a time in whole Wh over typed arrays) both call these functions, so the two cannot drift apart
 * (docs/architecture.md "Simulator"). Scalars in, scalars out: no allocation in the study's hot loop.
 */

/**
 * AC output per kWp per W/m² on the module plane: inverter, wiring, soiling and temperature losses of
 * a typical well-kept rooftop system (PVGIS assumes 14 % system loss; 0.85 is the usual planning figure).
 */
export const PERFORMANCE_RATIO = 0.85
/**
 * A household's use within an interval varies around its profile by a factor drawn evenly from
 * 0.55 … 1.45: the standard profile is an average of many homes, one home is much spikier.
 */
export const LOAD_NOISE_MIN = 0.55
export const LOAD_NOISE_SPAN = 0.9
/** The share of its capacity a battery's own management never discharges below. */
export const BATTERY_FLOOR_SHARE = 0.05

/**
 * PV output, W, of `kWp` of modules under `planeIrradianceWm2` on their plane.
 * @example pvPowerW(5, 800) // 3400
 */
export function pvPowerW(kWp: number, planeIrradianceWm2: number): number {
  return kWp * planeIrradianceWm2 * PERFORMANCE_RATIO
}

/**
 * Household load, W: the standard profile's power for 1,000 kWh/yr (`profileW`) scaled to the home
 * (`loadScale`, see `loadScaleOf`), times the home's own variation for `noiseU`, a uniform draw in [0, 1).
 * @example loadPowerW(3.5, 114, 0.5) // 399
 */
export function loadPowerW(loadScale: number, profileW: number, noiseU: number): number {
  return loadScale * profileW * (LOAD_NOISE_MIN + LOAD_NOISE_SPAN * noiseU)
}

/**
 * The factor that turns the standard profile into a home using `annualKwh` a year: its kWh over the
 * profile's own kWh in that year (`annualStandardKwh`, about 1,000; study-calendar.ts), so the home's
 * year comes out at exactly its kWh.
 * @example loadScaleOf(3500, 1000) // 3.5
 */
export function loadScaleOf(annualKwh: number, annualStandardKwh: number): number {
  return annualKwh / annualStandardKwh
}

/**
 * What the battery gives (positive, discharge) or takes (negative, charge) toward `wantedWh` in one
 * step: within its power for the step (`maxWh`), what it holds above `floorWh`, and the room below
 * `ceilingWh` (charge is counted before the losses, which are taken on charge).
 * @example batteryEnergyWh(-1000, 4900, 625, 250, 5000, 0.9) // ≈ -111.1: room for 100 Wh, stored after 10 % losses
 */
export function batteryEnergyWh(wantedWh: number, socWh: number, maxWh: number, floorWh: number, ceilingWh: number, efficiency: number): number {
  if (wantedWh >= 0) return Math.min(wantedWh, maxWh, Math.max(0, socWh - floorWh))
  return -Math.min(-wantedWh, maxWh, Math.max(0, (ceilingWh - socWh) / efficiency))
}

/**
 * The battery's charge after giving `energyWh` (positive) or taking it (negative, stored less its losses).
 * @example socAfterWh(2000, -100, 0.9) // 2090
 */
export function socAfterWh(socWh: number, energyWh: number, efficiency: number): number {
  return energyWh >= 0 ? socWh - energyWh : socWh - energyWh * efficiency
}
