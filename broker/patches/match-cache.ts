/** The part of an mqemitter's topic matcher (a Qlobber) this module touches. */
interface Matcher {
  match(topic: string, context?: unknown): unknown[]
  add(topic: string, value: unknown): unknown
  remove(topic: string, value?: unknown): unknown
  clear(): unknown
}

/** Topics remembered at most; past it the cache starts again (a community's agents publish on a few topics each). */
export const MATCH_CACHE_TOPICS = 65_536

/**
 * Remembers which subscriptions match each published topic until the subscriptions change.
 *
 * mqemitter asks its Qlobber for every message: the topic split into words (a new array) and walked
 * through the trie, about 8 % of the broker's thread at full load, though an agent publishes on the
 * same few topics all day and subscriptions change only when clients come and go. Any add, remove or
 * clear forgets everything, so a cached answer is always the one the matcher would give now. Answers
 * are frozen copies: mqemitter only reads them, and the same array goes to every message on the topic.
 * Throws when the emitter has no matcher of this shape (a dependency upgrade changed it): better
 * refused at start than a broker that delivers stale matches.
 */
export function cacheTopicMatches<T extends object>(emitter: T, limit = MATCH_CACHE_TOPICS): T {
  const matcher = (emitter as { _matcher?: Partial<Matcher> })._matcher
  if (!matcher || !(['match', 'add', 'remove', 'clear'] as const).every((name) => typeof matcher[name] === 'function')) {
    throw new Error('mqemitter has no Qlobber _matcher to cache: the installed mqemitter version is not supported (see package.json)')
  }
  const { match, add, remove, clear } = matcher as Matcher
  const answers = new Map<string, readonly unknown[]>()
  Object.assign(matcher, {
    match(this: Matcher, topic: string, context?: unknown) {
      if (context !== undefined) return match.call(this, topic, context)
      let answer = answers.get(topic)
      if (answer === undefined) {
        if (answers.size >= limit) answers.clear()
        // A copy: Qlobber may answer with its trie's own array of values.
        answer = Object.freeze([...match.call(this, topic)])
        answers.set(topic, answer)
      }
      return answer
    },
    add(this: Matcher, topic: string, value: unknown) {
      answers.clear()
      return add.call(this, topic, value)
    },
    remove(this: Matcher, topic: string, value?: unknown) {
      answers.clear()
      return remove.call(this, topic, value)
    },
    clear(this: Matcher) {
      answers.clear()
      return clear.call(this)
    },
  })
  return emitter
}
