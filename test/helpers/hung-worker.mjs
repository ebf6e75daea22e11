// A worker thread that takes messages and never answers: a signature worker stuck in native code.
import { parentPort } from 'node:worker_threads'
parentPort.on('message', () => {})
