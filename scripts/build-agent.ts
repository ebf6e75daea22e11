/**
 * `npm run build:agent`: bundles the edge agent into dist/vpp-agent.mjs for plain `node` (no
 * TypeScript loader: a third less memory on a Pi) and copies the vendor maps beside it. Native
 * modules stay external and load from node_modules.
 */
import { cpSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
export const AGENT_BUNDLE = `${root}dist/vpp-agent.mjs`

export async function buildAgent(): Promise<string> {
  mkdirSync(`${root}dist`, { recursive: true })
  await build({
    entryPoints: [`${root}cli/agent-main.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: AGENT_BUNDLE,
    external: ['better-sqlite3', 'serialport', '@serialport/*', 'modbus-serial'],
    // CommonJS dependencies inside an ES module bundle still call require.
    banner: { js: "import { createRequire as __vppCreateRequire } from 'node:module'; const require = __vppCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    // Minified (names kept, for stack traces and logs): a Pi holds about 4 MB less; the linked
    // source map gives readable stack traces under NODE_OPTIONS=--enable-source-maps.
    minify: true,
    sourcemap: 'linked',
    keepNames: true,
  })
  // vendor-map.ts finds its maps next to itself: in the bundle, next to the bundle.
  cpSync(`${root}edge-agent/device-maps/maps`, `${root}dist/maps`, { recursive: true })
  return AGENT_BUNDLE
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`agent: wrote ${await buildAgent()}`)
