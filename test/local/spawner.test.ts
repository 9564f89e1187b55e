import { runProgram, spawnProgram } from '../../local/spawner';

const closed = (p: ReturnType<typeof spawnProgram>) => new Promise<[number | null, string | null]>((resolve) => p.on('close', (code: number | null, signal: string | null) => resolve([code, signal])));

describe('the local cloud\'s spawner', () => {
  it('starts programs from its own small process, not from the local cloud\'s', async () => {
    // GIVEN / WHEN a program that prints its parent's pid
    const { stdout } = await runProgram('bash', ['-c', 'echo $PPID']);
    // THEN its parent is the spawner, a process other than this one
    const parent = Number(stdout.trim());
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
  });

  it('gives a program its directory and environment, and its stdout and stderr apart', async () => {
    const out = await runProgram('bash', ['-c', 'pwd; echo "$GREETING" >&2'], { cwd: '/tmp', env: { PATH: process.env.PATH, GREETING: 'hello' } });
    expect(out).toEqual({ stdout: '/tmp\n', stderr: 'hello\n' });
  });

  it('delivers all of a large output before the program\'s close', async () => {
    const { stdout } = await runProgram('head', ['-c', '3000000', '/dev/zero'], { maxBuffer: 4_000_000 });
    expect(stdout.length).toBe(3_000_000);
  });

  it('rejects a program that fails, naming it, its status and its stderr', async () => {
    await expect(runProgram('bash', ['-c', 'echo broken >&2; exit 3'])).rejects.toMatchObject({ code: 3, message: expect.stringContaining('broken') as unknown });
  });

  it('rejects a program that does not exist with ENOENT', async () => {
    await expect(runProgram('no-such-program-here', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects output beyond maxBuffer', async () => {
    await expect(runProgram('head', ['-c', '5000', '/dev/zero'], { maxBuffer: 1000 })).rejects.toThrow('exceeded 1000 bytes');
  });

  it('stops a detached program and everything it started with a kill of its process group', async () => {
    // GIVEN a program in its own group that starts a child of its own
    const p = spawnProgram('bash', ['-c', 'sleep 30 & wait'], { detached: true });
    const ended = closed(p);
    await new Promise((r) => setTimeout(r, 300));
    expect(p.pid).toBeGreaterThan(0);
    // WHEN its group is killed
    process.kill(-p.pid!, 'SIGKILL');
    // THEN it ends by the signal, as a ChildProcess would say
    expect(await ended).toEqual([null, 'SIGKILL']);
    expect(p.signalCode).toBe('SIGKILL');
  });

  it('kills a program asked to stop before its pid was known', async () => {
    const p = spawnProgram('sleep', ['30']);
    const ended = closed(p);
    expect(p.kill('SIGTERM')).toBe(true);
    expect(await ended).toEqual([null, 'SIGTERM']);
  });
});
