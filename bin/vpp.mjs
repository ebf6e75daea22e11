#!/usr/bin/env node
// The `vpp` command for installs: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../cli/vpp.ts')
