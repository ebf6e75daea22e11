/** The part of an mqemitter this module touches: its internal "process one message" step. */
interface EmitterInternals {
  _do?: (message: unknown, callback: () => void) => unknown
}

/** Nested message steps allowed on one stack before the next one waits for the event loop. */
const MAX_DEPTH = 64

/**
 * Keeps an mqemitter (in memory or on Redis) from recursing through its queue. When more messages
 * are in flight than its `concurrency`, mqemitter queues them and each finished message starts the
 * next one synchronously; messages that match no subscriber finish at once, so a queue of thousands
 * (a flood, then the subscriber leaves) unwinds as one deep recursion and the broker dies of
 * "Maximum call stack size exceeded" (mcollina/mqemitter#204, open). Past MAX_DEPTH nested steps the
 * next one is deferred with setImmediate: the queue drains in slices, every message still delivered
 * in order. Throws when the emitter has no `_do` (a dependency upgrade changed it): better refused at
 * start than a broker that can be crashed.
 */
export function boundEmitterDepth<T extends object>(emitter: T): T {
  const internals = emitter as EmitterInternals
  const step = internals._do
  if (typeof step !== 'function') throw new Error('mqemitter has no _do to bound: the installed mqemitter version is not supported (see package.json)')
  let depth = 0
  internals._do = function bounded(this: unknown, message, callback) {
    if (depth >= MAX_DEPTH) {
      setImmediate(() => internals._do!.call(emitter, message, callback))
      return emitter
    }
    depth++
    try {
      return step.call(this, message, callback)
    } finally {
      depth--
    }
  }
  return emitter
}
