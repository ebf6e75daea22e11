/** A place in a JSON value: object keys and array indexes from the root. */
export type JsonPath = (string | number)[]

/** Every place in `value`, the root and each container's members, depth first. */
export function jsonPaths(value: unknown, at: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [at]
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value)
  return [at, ...keys.flatMap((k) => jsonPaths((value as Record<string | number, unknown>)[k], [...at, k]))]
}

/** `value` with the node at `path` replaced (or, with `remove`, deleted), the rest shared. */
export function editJson(value: unknown, path: JsonPath, replacement: unknown, remove = false): unknown {
  if (path.length === 0) return replacement
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>
  const [head, ...rest] = path
  if (remove && rest.length === 0) {
    if (Array.isArray(copy)) copy.splice(head as number, 1)
    else delete copy[head!]
  } else copy[head!] = editJson(copy[head!], rest, replacement, remove)
  return copy
}
