import { afterAll, describe, expect, it } from 'vitest'
import { demoHomes } from '../../simulator/home-model.ts'
import { LiveNeighbourhood } from '../../simulator/live-neighbourhood.ts'
import { waitFor } from '../helpers/wait-for.ts'

let hood: LiveNeighbourhood | undefined
afterAll(async () => hood?.stop())

describe('live mode', () => {
  it('runs the homes faster than real time when asked: an hour a second takes the street from night to sunrise', async () => {
    // 03:00 on the simulated clock, 3,600 simulated seconds per real second.
    hood = new LiveNeighbourhood({ homes: demoHomes(1), startSecondsOfDay: 3 * 3600, speed: 3600, tickMs: 100 })
    await hood.start()
    const home = hood.homes[0]!
    expect(home.model.last.pvW).toBe(0)
    expect(Number(home.device.image.get(103, 'W'))).toBe(0)
    // Sunrise in Berlin at midsummer is 04:43; by about 06:00 the roof makes power, and the device shows it.
    await waitFor('the sun to rise on the simulated clock', () => Number(home.device.image.get(103, 'W')) > 0, 10_000)
    expect(hood.secondsOfDay()).toBeGreaterThan(4.5 * 3600)
    expect(home.model.last.pvW).toBeGreaterThan(0)
  })
})
