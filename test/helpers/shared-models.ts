import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The official SunSpec JSON models in ../shared (beside the repo in CI and on developer machines). */
export const SHARED_MODELS_DIR = fileURLToPath(new URL('../../../shared/sunspec-models', import.meta.url))
export const haveSharedModels = existsSync(SHARED_MODELS_DIR)
