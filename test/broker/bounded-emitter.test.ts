import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { boundEmitterDepth } from '../../broker/patches/bounded-emitter.ts'

interface Emitter {
  on(topic: string, listener: (message: object, done: () => void) => void, cb?: () => void): void
  removeListener(topic: string, listener: (message: object, done: () => void) => void, cb?: () => void): void
  emit(message: { topic: string; n: number }, cb?: () => void): void
}
const mqemitter = createRequire(import.meta.url)('mqemitter') as (opts: object) => Emitter

/**
 * What a flood followed by a departing subscriber does to the broker's emitter: one message held
 * in flight (concurrency 1), 50,000 queued behind it, then the only subscriber gone, so each queued
 * message matches no one and finishes at once when the held one is released.
 */
function drainAfterSubscriberLeaves(emitter: Emitter): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const finished: number[] = []
    let release: (() => void) | undefined
    const listener = (_message: object, done: () => void) => {
      release ??= done
    }
    emitter.on('telemetry', listener, () => {
      for (let n = 0; n <= 50_000; n++) {
        emitter.emit({ topic: 'telemetry', n }, () => {
          finished.push(n)
          if (finished.length === 50_001) resolve(finished)
        })
      }
      emitter.removeListener('telemetry', listener, () => {
        try {
          release!()
        } catch (error) {
          reject(error)
        }
      })
    })
  })
}

describe('boundEmitterDepth', () => {
  it('lets a queue of 50,000 messages that match no one drain in order, where the bare emitter overflows the stack', async () => {
    await expect(drainAfterSubscriberLeaves(mqemitter({ concurrency: 1 }))).rejects.toThrow(/Maximum call stack size exceeded/)
    const finished = await drainAfterSubscriberLeaves(boundEmitterDepth(mqemitter({ concurrency: 1 })))
    expect(finished).toEqual(Array.from({ length: 50_001 }, (_, n) => n))
  })

  it('refuses an emitter it cannot bound', () => {
    expect(() => boundEmitterDepth({})).toThrow(/no _do to bound/)
  })
})
