import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The C addons `npm run build:native` (scripts/build-native.ts) builds into dist/native/. */
export type NativeAddonName = 'batch_verify' | 'clear_columns' | 'payload_check'

export type NativeAddonStatus<T> = { available: true; addon: T } | { available: false; reason: string }

const loaded = new Map<NativeAddonName, NativeAddonStatus<unknown>>()

/** Where the addon `name` is built. */
export function nativeAddonPath(name: NativeAddonName): string {
  return fileURLToPath(new URL(`../dist/native/${name}.node`, import.meta.url))
}

/**
 * The addon `name`, loaded once per thread, or why it is not there (not built: no C compiler, or
 * `npm run build:native` not run). Callers fall back to their TypeScript path and say so.
 */
export function nativeAddon<T>(name: NativeAddonName): NativeAddonStatus<T> {
  let status = loaded.get(name)
  if (!status) {
    const path = nativeAddonPath(name)
    try {
      status = { available: true, addon: createRequire(import.meta.url)(path) }
    } catch (error) {
      status = { available: false, reason: `${path} did not load (${(error as Error).message.split('\n')[0]}); run npm run build:native` }
    }
    loaded.set(name, status)
  }
  return status as NativeAddonStatus<T>
}
