// Worker entry: Node 20 does not apply --import hooks to a worker's own entry file, so register tsx
// here and then load the TypeScript worker.
import { register } from 'tsx/esm/api'

register()
await import('./signature-worker.ts')
