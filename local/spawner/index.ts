import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

/**
 * Programs the local cloud runs (a simulated instance's bash, zip for a job's source), started by a small helper process
 * (helper.cjs) instead of by the local cloud's own process: Node starts a program by forking the process that asks, which
 * blocks that process's main thread in proportion to its memory (on a 2-core machine, about 80 ms for a 1.5 GB process
 * against 10 ms for a small one). The 1,000-build benchmark spent 43 s of its first 90 on forks of its main thread, the
 * thread that also answers every simulated AWS call. The program itself runs as it would from here: same command,
 * arguments, directory, environment and process group; its output streams back over the helper's IPC channel.
 */

const HELPER = path.join(__dirname, 'helper.cjs');

/** The part of a ChildProcess the local cloud uses: its pid, its output, its end, and kill. */
export interface SpawnedProgram extends EventEmitter {
  /** Known once the helper has started it (undefined before, and when it could not start). */
  readonly pid: number | undefined;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** As ChildProcess's: null until it ended, and when a signal ended it. */
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Its own process group (ChildProcess's detached), so that a kill of -pid stops everything it started. */
  readonly detached?: boolean;
}

type HelperMessage =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'data'; id: number; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'error'; id: number; message: string; code?: string }
  | { type: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

class Program extends EventEmitter implements SpawnedProgram {
  pid: number | undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** A kill asked for before the helper said the pid. */
  private pendingSignal: NodeJS.Signals | undefined;
  private ended = false;

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.ended) return false;
    if (this.pid === undefined) {
      this.pendingSignal = signal;
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  receive(message: HelperMessage): void {
    if (message.type === 'spawned') {
      this.pid = message.pid;
      if (this.pendingSignal) this.kill(this.pendingSignal);
    } else if (message.type === 'data') {
      (message.stream === 'stdout' ? this.stdout : this.stderr).write(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
    } else if (message.type === 'error') {
      this.emit('error', Object.assign(new Error(message.message), { code: message.code }));
    } else {
      this.end(message.code, message.signal);
    }
  }

  end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    // After the output's last chunk was read, as ChildProcess's 'close' comes after its streams closed.
    const drained = (stream: PassThrough) => (stream.readableFlowing ? new Promise<void>((resolve) => stream.once('end', resolve)) : Promise.resolve());
    const streams = [this.stdout, this.stderr];
    void Promise.all(streams.map(drained)).then(() => setImmediate(() => this.emit('close', code, signal)));
    for (const stream of streams) stream.end();
  }
}

let helper: ChildProcess | undefined;
let nextId = 0;
const running = new Map<number, Program>();

/** The helper, started on first use; its channel keeps this process alive only while a program runs. */
function theHelper(): ChildProcess {
  if (helper?.connected) return helper;
  // execArgv []: none of this process's loaders or flags (tsx, a profiler) is needed to start programs.
  const started = fork(HELPER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  started.on('message', (message: HelperMessage) => {
    const program = running.get(message.id);
    if (!program) return;
    program.receive(message);
    if (message.type === 'close') forget(message.id);
  });
  // A helper that died takes its programs' ends with it: each ends as killed, and the next spawn starts a new helper.
  started.on('exit', () => {
    if (helper === started) helper = undefined;
    for (const [id, program] of running) {
      if (program.listenerCount('error') > 0) program.emit('error', new Error('the local cloud\'s spawner process ended'));
      program.end(null, 'SIGKILL');
      running.delete(id);
    }
  });
  started.unref();
  started.channel?.unref();
  helper = started;
  return started;
}

function forget(id: number): void {
  running.delete(id);
  if (running.size === 0) helper?.channel?.unref();
}

/** Starts a program through the helper, its stdin closed and its stdout and stderr piped back. */
export function spawnProgram(command: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProgram {
  const h = theHelper();
  const id = nextId++;
  const program = new Program();
  running.set(id, program);
  h.channel?.ref();
  h.send({ type: 'spawn', id, command, args, options: { ...options, stdio: ['ignore', 'pipe', 'pipe'] } });
  return program;
}

/** execFile through the helper: the program's output once it ended with status 0, or an error naming it and its stderr. */
export function runProgram(command: string, args: readonly string[], options: SpawnOptions & { readonly maxBuffer?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  const maxBuffer = options.maxBuffer ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const program = spawnProgram(command, args, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: Error | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBuffer && !failure) {
        failure = new Error(`${command}: its output exceeded ${maxBuffer} bytes`);
        program.kill('SIGKILL');
      }
      into.push(chunk);
    };
    program.stdout.on('data', collect(out));
    program.stderr.on('data', collect(err));
    program.on('error', (e: Error) => (failure ??= e));
    program.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (!failure && code === 0) return resolve({ stdout, stderr });
      if (failure) return reject(Object.assign(failure, { stdout, stderr }));
      reject(Object.assign(new Error(`Command failed: ${[command, ...args].join(' ')} (${signal ?? `exit ${code}`})\n${stderr}`), { code, signal, stdout, stderr }));
    });
  });
}
