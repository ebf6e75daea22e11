import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { cacheTopicMatches } from '../../broker/patches/match-cache.ts'

type Listener = (message: { topic: string }, done: () => void) => void
interface Emitter {
  on(topic: string, listener: Listener, cb?: () => void): void
  removeListener(topic: string, listener: Listener, cb?: () => void): void
  removeAllListeners(topic: string, cb?: () => void): void
  emit(message: { topic: string }, cb?: () => void): void
  _matcher: { match(topic: string): unknown[] }
}
const mqemitter = createRequire(import.meta.url)('mqemitter') as (opts: object) => Emitter
const emitter = () => mqemitter({ concurrency: 100 })

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
}

const TOPICS = ['vpp/v1/s/agents/a1/telemetry', 'vpp/v1/s/agents/a2/telemetry', 'vpp/v1/s/agents/a1/orders', 'vpp/v1/s/market/prices', 'vpp/v1/t/agents/a1/telemetry', 'vpp/v1/s/agents/a1/awards']
const PATTERNS = ['vpp/v1/s/agents/+/telemetry', 'vpp/v1/s/agents/a1/#', 'vpp/v1/+/agents/a1/telemetry', 'vpp/v1/s/market/#', 'vpp/#', '#', ...TOPICS]

/** Who received one emitted message, in delivery order. */
function emitTo(target: Emitter, topic: string, received: string[]): Promise<string[]> {
  received.length = 0
  return new Promise((resolve) => target.emit({ topic }, () => resolve([...received])))
}

describe('cacheTopicMatches: an emitter remembers topic matches until its subscriptions change', () => {
  it('delivers every message to exactly whom an emitter without the cache delivers it, through subscribes, unsubscribes and clears', async () => {
    const next = random(42)
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!
    const plain = emitter()
    // A small limit, so the cache also starts again many times along the way.
    const cached = cacheTopicMatches(emitter(), 3)
    const received = { plain: [] as string[], cached: [] as string[] }
    const listeners = Array.from({ length: 8 }, (_, i) => ({
      plain: ((_m, done) => (received.plain.push(`l${i}`), done())) as Listener,
      cached: ((_m, done) => (received.cached.push(`l${i}`), done())) as Listener,
    }))
    let emitted = 0
    let delivered = 0
    for (let step = 0; step < 3000; step++) {
      const roll = next()
      if (roll < 0.15) {
        const pattern = pick(PATTERNS)
        const listener = pick(listeners)
        plain.on(pattern, listener.plain)
        cached.on(pattern, listener.cached)
      } else if (roll < 0.27) {
        const pattern = pick(PATTERNS)
        const listener = pick(listeners)
        await Promise.all([new Promise<void>((r) => plain.removeListener(pattern, listener.plain, r)), new Promise<void>((r) => cached.removeListener(pattern, listener.cached, r))])
      } else if (roll < 0.28) {
        const pattern = pick(PATTERNS)
        await Promise.all([new Promise<void>((r) => plain.removeAllListeners(pattern, r)), new Promise<void>((r) => cached.removeAllListeners(pattern, r))])
      } else {
        const topic = pick(TOPICS)
        const expected = await emitTo(plain, topic, received.plain)
        expect(await emitTo(cached, topic, received.cached), `step ${step}: ${topic}`).toEqual(expected)
        emitted++
        delivered += expected.length
      }
    }
    // The walk did what it is for: many messages, most of them to someone.
    expect(emitted).toBeGreaterThan(2000)
    expect(delivered).toBeGreaterThan(emitted)
  })

  it('asks the matcher once per topic until a subscription changes, then again', async () => {
    const target = emitter()
    const asked: string[] = []
    const match = target._matcher.match
    target._matcher.match = function (this: unknown, topic: string) {
      asked.push(topic)
      return match.call(this, topic)
    }
    cacheTopicMatches(target)
    const received: string[] = []
    target.on('a/+', (_m, done) => (received.push('wild'), done()))
    for (let i = 0; i < 5; i++) await emitTo(target, 'a/b', received)
    await emitTo(target, 'a/c', received)
    expect(asked).toEqual(['a/b', 'a/c'])

    const exact: Listener = (_m, done) => (received.push('exact'), done())
    target.on('a/b', exact)
    expect((await emitTo(target, 'a/b', received)).sort()).toEqual(['exact', 'wild'])
    await new Promise<void>((r) => target.removeListener('a/b', exact, r))
    expect(await emitTo(target, 'a/b', received)).toEqual(['wild'])
    expect(asked).toEqual(['a/b', 'a/c', 'a/b', 'a/b'])
  })

  it('hands out frozen copies, never the matcher’s own arrays', () => {
    const target = cacheTopicMatches(emitter())
    const listener: Listener = (_m, done) => done()
    target.on('x/y', listener)
    const answer = target._matcher.match('x/y')
    expect(Object.isFrozen(answer)).toBe(true)
    expect(answer).toEqual([listener])
    // Removing the value from the trie's array still works (it was frozen in place before the copy).
    expect(() => (target._matcher as unknown as { remove(t: string, v: unknown): void }).remove('x/y', listener)).not.toThrow()
    expect(target._matcher.match('x/y')).toEqual([])
  })

  it('refuses an emitter without a Qlobber matcher at start', () => {
    expect(() => cacheTopicMatches({})).toThrow(/mqemitter version is not supported/)
    expect(() => cacheTopicMatches({ _matcher: { match() {} } })).toThrow(/mqemitter version is not supported/)
  })
})
