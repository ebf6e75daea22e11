import { useEffect, useState } from 'react'

/** GETs `url` as JSON whenever it or `refresh` changes; null while loading, on failure, or without a url. */
export function useJson<T>(url: string | null, refresh: unknown = 0): T | null {
  const [value, setValue] = useState<T | null>(null)
  useEffect(() => {
    if (!url) return setValue(null)
    let live = true
    fetch(url)
      .then((r) => (r.ok ? (r.json() as Promise<T>) : Promise.reject(new Error(r.statusText))))
      .then((v) => live && setValue(v))
      .catch(() => undefined) // offline: keep what is shown; the connection badge says so
    return () => {
      live = false
    }
  }, [url, refresh])
  return value
}
