import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';

/** `npm run local -- --parameter NAME=VALUE --secret NAME=VALUE`, and --json's outputVariables, as a user runs them (CONTRACTS). */
const ROOT = path.join(__dirname, '..', '..');
const local = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'local', 'cli.ts'), '--quiet', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });

describe('the local runner\'s --parameter and --secret', () => {
  it('holds the values in the local Parameter Store and Secrets Manager, lets the build read exactly those, and prints what it exported', () => {
    // GIVEN a parameter, a secret, and a build that exports a digest of both (never the values themselves)
    const run = local(
      '--parameter', '/builds/token=tok-value',
      '--secret', 'builds/db={"password":"pw-value"}',
      '--property', 'EnvironmentVariables=[{"name":"T","value":"/builds/token","type":"PARAMETER_STORE"},{"name":"P","value":"builds/db:password","type":"SECRETS_MANAGER"}]',
      '--property', 'ExportedVariables=DIGEST',
      '--command', 'export DIGEST=$(printf %s "$T:$P" | sha256sum | cut -c1-16)',
      '--json',
    );
    // THEN the build saw both, and the summary's outputVariables holds its export
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, outputVariables: { DIGEST: createHash('sha256').update('tok-value:pw-value').digest('hex').slice(0, 16) } });
    expect(run.stdout + run.stderr).not.toContain('pw-value');
  });

  it('refuses a pair without a name, and a --template (which holds its own settings), with exit status 2', () => {
    expect(local('--secret', 'novalue').stderr).toContain('--secret must be NAME=VALUE, got "novalue"');
    const run = local('--parameter', '/builds/x=1', '--template', path.join(ROOT, 'package.json'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--parameter and --secret deploy the stack allowing their paths and names; --template holds its own settings');
  });
});
