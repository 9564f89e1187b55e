'use strict';
/**
 * The local cloud's spawner: a small process that starts the programs the local cloud runs (the document's bash on a
 * simulated instance, zip for a job's source) on behalf of the local cloud's own process, which holds gigabytes of
 * models, bundles and worker threads. Starting a program forks the process that asks, and a fork costs in proportion
 * to its memory: about 80 ms of a 1.5 GB process's main thread each, 10 ms of this one's. Plain CommonJS, so that it
 * starts without a TypeScript loader. local/spawner/index.ts is its only client; messages, over Node's IPC channel:
 *   in:  { type: 'spawn', id, command, args, options }
 *   out: { type: 'spawned', id, pid } | { type: 'data', id, stream, data } | { type: 'error', id, message, code }
 *        | { type: 'close', id, code, signal }
 */
const { spawn } = require('node:child_process');

const send = (message) => {
  if (process.connected) process.send(message);
};

process.on('message', (message) => {
  if (!message || message.type !== 'spawn') return;
  const { id, command, args, options } = message;
  let child;
  try {
    child = spawn(command, args, options);
  } catch (err) {
    send({ type: 'error', id, message: err.message, code: err.code });
    send({ type: 'close', id, code: null, signal: null });
    return;
  }
  if (child.pid !== undefined) send({ type: 'spawned', id, pid: child.pid });
  for (const stream of ['stdout', 'stderr']) child[stream]?.on('data', (data) => send({ type: 'data', id, stream, data }));
  child.on('error', (err) => send({ type: 'error', id, message: err.message, code: err.code }));
  child.on('close', (code, signal) => send({ type: 'close', id, code, signal }));
});

// The local cloud's process ended: nothing is left to ask, and nobody to tell.
process.on('disconnect', () => process.exit(0));
