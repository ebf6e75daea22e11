import { afterEach, describe, expect, it, vi } from 'vitest'
import { IntervalClock } from '../../market/service/interval-clock.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('IntervalClock', () => {
  it('opens the interval after the current one, closes each gate at its start, and goes on after a failed closure', () => {
    vi.useFakeTimers({ now: 1_800_000_010_000 }) // 10 s into the 15-minute interval starting at 1,800,000,000
    const closed: number[] = []
    const errors: unknown[] = []
    const clock = new IntervalClock(
      900,
      (interval) => {
        closed.push(interval)
        if (closed.length === 1) throw new Error('clearing failed')
      },
      (error) => errors.push(error),
    )
    clock.openAt(Date.now())
    expect(clock.openInterval).toBe(1_800_000_900)
    expect(clock.deliveringInterval).toBe(1_800_000_000)
    clock.run()
    vi.advanceTimersByTime(889_999) // one millisecond before the gate
    expect(closed).toEqual([])
    vi.advanceTimersByTime(1)
    expect(closed).toEqual([1_800_000_900])
    expect(errors).toHaveLength(1)
    expect(clock.openInterval).toBe(1_800_001_800)
    vi.advanceTimersByTime(900_000)
    expect(closed).toEqual([1_800_000_900, 1_800_001_800])
    clock.stop()
    vi.advanceTimersByTime(10 * 900_000)
    expect(closed).toHaveLength(2)
  })
})
