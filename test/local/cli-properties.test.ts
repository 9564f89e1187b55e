import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** `npm run local -- --property NAME=VALUE`, as a user runs it (CONTRACTS: any action property, repeatable). */
const ROOT = path.join(__dirname, '..', '..');
const local = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'local', 'cli.ts'), '--quiet', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });

describe('the local runner\'s --property and --runs', () => {
  it('sets any action property, over its shorthand, and declares the output artifact OutputArtifactPath names', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-')), 'out.zip');
    const run = local('--command', 'false', '--property', 'Command=mkdir -p dist && echo a=b > dist/x.txt', '--property', 'OutputArtifactPath=dist', '--out', out, '--json');
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, outputArtifact: out });
    expect(fs.existsSync(out)).toBe(true);
  });

  it('gives every phase as a number in --json, 0 for a phase a failed build never reached (its output staged)', () => {
    const run = local('--command', 'exit 3', '--json');
    expect(run.status).toBe(1);
    const { phases } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { phases: Record<string, unknown> };
    expect(Object.keys(phases).sort()).toEqual(['buildMs', 'queuedMs', 'readyMs', 'releaseMs', 'stagingInMs', 'stagingOutMs']);
    for (const [name, ms] of Object.entries(phases)) expect([name, typeof ms]).toEqual([name, 'number']);
    expect(phases.stagingOutMs).toBe(0);
  });

  it('runs the same job several times in one local cloud with --runs, reporting the last run', () => {
    const run = local('--command', 'echo run', '--runs', '2', '--json');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('run 1 of 2: Succeeded');
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1 });
    expect(local('--runs', '0').stderr).toContain('--runs must be a whole number from 1 to 100, got "0"');
  });

  it('refuses a property the action type does not declare, naming those it does, with exit status 2', () => {
    const run = local('--property', 'Cache=on');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--property Cache: the action type declares no such property; it has ImageId, InstanceType, Command, WorkingDirectory, OutputArtifactPath, TimeoutMinutes, Fleet, EnvironmentVariables, ExportedVariables, CachePaths');
    expect(local('--property', 'novalue').stderr).toContain('--property must be NAME=VALUE, got "novalue"');
  });
});
