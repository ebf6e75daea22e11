import { describe, expect, it } from 'vitest'
import { TurnBatch } from '../../platform/turn-batch.ts'

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('TurnBatch', () => {
  it('hands over at once when full, else what arrived in this turn at its end, each item once', async () => {
    const sent: number[][] = []
    const batch = new TurnBatch<number>((items) => sent.push(items), (items) => items.length >= 3)
    for (let i = 0; i < 7; i++) batch.add(i)
    expect(sent).toEqual([[0, 1, 2], [3, 4, 5]])
    expect(batch.first).toBe(6)
    await nextTurn()
    expect(sent).toEqual([[0, 1, 2], [3, 4, 5], [6]])
    await nextTurn()
    expect(sent).toHaveLength(3)
  })

  it('flushes on demand, and take() empties it without handing over', async () => {
    const sent: string[][] = []
    const batch = new TurnBatch<string>((items) => sent.push(items), () => false)
    batch.add('a')
    batch.flush()
    batch.add('b')
    expect(batch.take()).toEqual(['b'])
    expect(batch.first).toBeUndefined()
    await nextTurn()
    expect(sent).toEqual([['a']])
  })
})
