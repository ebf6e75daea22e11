/**
 * Where the sun is and how much it gives on a clear day, for a place and a moment. Pure.
 *
 * Solar position from the NOAA approximations (declination and equation of time from the fractional
 * year); clear-sky global horizontal irradiance from the Haurwitz model (GHI = 1098 cos z e^(−0.059 / cos z)
 * W/m²); the plane of the array by an isotropic sky (beam on the tilted plane, diffuse by its view of the
 * sky). Good to a few percent: what a yearly study of a street needs, not a bankable yield.
 */

const RAD = Math.PI / 180

export interface SunPosition {
  /** Elevation above the horizon, degrees (negative at night). */
  elevationDeg: number
  /** Azimuth from north, clockwise, degrees (180 = south). */
  azimuthDeg: number
}

/**
 * @example sunPosition(new Date('2026-06-21T11:00:00Z'), 52.5, 13.4).elevationDeg // ≈ 61 (Berlin, midsummer noon)
 */
export function sunPosition(at: Date, latDeg: number, lonDeg: number): SunPosition {
  const start = Date.UTC(at.getUTCFullYear(), 0, 1)
  const dayOfYear = Math.floor((at.getTime() - start) / 86_400_000)
  const hourUtc = at.getUTCHours() + at.getUTCMinutes() / 60 + at.getUTCSeconds() / 3600
  const gamma = ((2 * Math.PI) / 365) * (dayOfYear + (hourUtc - 12) / 24)
  const eqTimeMin = 229.18 * (0.000075 + 0.001868 * Math.cos(gamma) - 0.032077 * Math.sin(gamma) - 0.014615 * Math.cos(2 * gamma) - 0.040849 * Math.sin(2 * gamma))
  const decl =
    0.006918 - 0.399912 * Math.cos(gamma) + 0.070257 * Math.sin(gamma) - 0.006758 * Math.cos(2 * gamma) + 0.000907 * Math.sin(2 * gamma) - 0.002697 * Math.cos(3 * gamma) + 0.00148 * Math.sin(3 * gamma)
  const trueSolarMin = hourUtc * 60 + eqTimeMin + 4 * lonDeg
  const hourAngle = (trueSolarMin / 4 - 180) * RAD
  const lat = latDeg * RAD
  const cosZenith = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle)
  const zenith = Math.acos(Math.max(-1, Math.min(1, cosZenith)))
  const azimuth = Math.atan2(Math.sin(hourAngle), Math.cos(hourAngle) * Math.sin(lat) - Math.tan(decl) * Math.cos(lat))
  return { elevationDeg: 90 - zenith / RAD, azimuthDeg: (azimuth / RAD + 180 + 360) % 360 }
}

/** Clear-sky global horizontal irradiance, W/m² (Haurwitz). */
export function clearSkyGhi(sun: SunPosition): number {
  const cosZ = Math.sin(sun.elevationDeg * RAD)
  return cosZ <= 0 ? 0 : 1098 * cosZ * Math.exp(-0.059 / cosZ)
}

/**
 * Irradiance on a panel of `tiltDeg` facing `azimuthDeg` (180 = south), W/m², from the horizontal
 * irradiance split into beam and diffuse (a clear sky is about 85 % beam).
 */
export function planeIrradiance(sun: SunPosition, ghi: number, tiltDeg: number, azimuthDeg: number, diffuseShare = 0.15): number {
  if (ghi <= 0) return 0
  const elev = sun.elevationDeg * RAD
  const beamHorizontal = ghi * (1 - diffuseShare)
  const beamNormal = beamHorizontal / Math.max(Math.sin(elev), 0.05)
  const tilt = tiltDeg * RAD
  const cosIncidence = Math.cos(elev) * Math.sin(tilt) * Math.cos((sun.azimuthDeg - azimuthDeg) * RAD) + Math.sin(elev) * Math.cos(tilt)
  const beam = Math.max(0, beamNormal * cosIncidence)
  const diffuse = ghi * diffuseShare * ((1 + Math.cos(tilt)) / 2)
  return beam + diffuse
}

/** Clearness index of a clear day in the cloud process: the clear-sky model's own output. */
const CLEAR_DAY_CLEARNESS = 0.78

/**
 * Irradiance on a panel under clouds, W/m²: the clear-sky irradiance scaled by the clearness index
 * (relative to a clear day), with more of it diffuse as the clouds thicken.
 *
 * @example cloudyPlaneIrradiance(sunPosition(new Date('2026-06-21T11:00:00Z'), 52.5, 13.4), 0.78, 30, 180) // ≈ 900
 */
export function cloudyPlaneIrradiance(sun: SunPosition, clearness: number, tiltDeg: number, azimuthDeg: number): number {
  const ghi = clearSkyGhi(sun) * (clearness / CLEAR_DAY_CLEARNESS)
  const diffuseShare = Math.min(1, Math.max(0.15, 1 - 1.1 * (clearness - 0.2)))
  return planeIrradiance(sun, ghi, tiltDeg, azimuthDeg, diffuseShare)
}
