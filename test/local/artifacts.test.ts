import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { LocalCloud } from '../../local/cloud';
import { runJob, type JobOptions } from '../../local/job';
import { ARTIFACT_BUCKET } from '../../local/s3';

/**
 * Several input and output artifacts (issue #13) through the real poller, state machine, functions and the document's
 * Linux step run by bash against the local S3-compatible store.
 */
const ROOT = path.join(__dirname, '..', '..');
const local = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'local', 'cli.ts'), '--quiet', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
let tmp: string;
const dir = (name: string, files: Record<string, string>) => {
  const at = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(at, file)), { recursive: true });
    fs.writeFileSync(path.join(at, file), text);
  }
  return at;
};
const unzipped = (zip: string) => {
  const to = fs.mkdtempSync(path.join(tmp, 'unzip-'));
  execFileSync('unzip', ['-q', zip, '-d', to]);
  return Object.fromEntries(fs.readdirSync(to, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => [path.relative(to, path.join(e.parentPath, e.name)), fs.readFileSync(path.join(e.parentPath, e.name), 'utf8')]));
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'artifacts-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('npm run local with two inputs and two outputs', () => {
  it('unzips the second input beside the first, names its directory, and uploads each output from its own path', () => {
    // GIVEN a primary source and a second input whose name holds a '-', and two outputs named in OutputArtifactPath
    const src = dir('src', { 'main.txt': 'from the primary input\n' });
    const tools = dir('tools', { 'bin/tool.txt': 'tool v1\n' });
    const command = [
      'test "$(printenv CODEPIPELINE_SRC_DIR_build-tools)" = "$CODEPIPELINE_SRC_DIR_build_tools"',
      'mkdir -p dist test-results',
      'cat main.txt "$CODEPIPELINE_SRC_DIR_build_tools/bin/tool.txt" > dist/app.txt',
      'echo "<testsuite/>" > test-results/junit.xml',
    ].join(' && ');
    const out = path.join(tmp, 'out');
    // WHEN
    const run = local('--input', `Src=${src}`, '--input', `build-tools=${tools}`, '--command', command, '--output-path', 'app=dist,reports=test-results', '--out', out, '--json');
    // THEN both outputs are in the store and in --out, each holding what the build wrote for it
    expect(run.stderr).not.toMatch(/failed/);
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesReleased: 1, outputArtifact: path.join(out, 'app.zip') });
    expect(summary.outputArtifacts).toEqual([
      { name: 'app', bytes: expect.any(Number), file: path.join(out, 'app.zip') },
      { name: 'reports', bytes: expect.any(Number), file: path.join(out, 'reports.zip') },
    ]);
    expect(unzipped(path.join(out, 'app.zip'))).toEqual({ 'app.txt': 'from the primary input\ntool v1\n' });
    expect(unzipped(path.join(out, 'reports.zip'))).toEqual({ 'junit.xml': '<testsuite/>\n' });
  }, 180_000);

  it('refuses an --input that is not an artifact name, or more inputs than the action type takes, with exit status 2', () => {
    expect(local('--input', `bad.name=${tmp}`).stderr).toContain("--input bad.name: an artifact name is 1 to 100 letters, digits, '_' or '-'");
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((n) => ['--input', `${n}=${tmp}`]);
    const run = local('--command', 'true', ...six);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--input / --output-path: Action 'BuildOnEc2' must have 0 to 5 input artifacts, has 6");
  }, 180_000);
});

describe('several artifacts that cannot work', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start();
  }, 300_000);
  afterAll(() => cloud.stop());
  const job = (options: Partial<JobOptions>) => runJob(cloud, { source: dir('s', { 'a.txt': 'a' }), command: 'mkdir -p dist r && echo x > dist/x && echo y > r/y', ...options });

  it.each([
    ['a mapping naming an artifact the action does not declare', { outputs: ['app', 'reports'], outputPath: 'app=dist,report=r' }, /^OutputArtifactPath names "report", which is not an output artifact of this action \(it declares "app", "reports"\)\. Give each declared output artifact its path, like app=PATH,reports=PATH\./],
    ['a declared output with no path', { outputs: ['app', 'reports'], outputPath: 'app=dist' }, /^OutputArtifactPath gives no path for the output artifact "reports"\. Add reports=PATH/],
    ['an output named twice', { outputs: ['app', 'reports'], outputPath: 'app=dist,reports=r,app=r' }, /^OutputArtifactPath names the output artifact "app" twice\./],
    ['a plain path with several outputs', { outputs: ['app', 'reports'], outputPath: 'dist' }, /^OutputArtifactPath is one path, "dist", but the action declares 2 output artifacts \("app", "reports"\)\. Give each its path, like app=PATH,reports=PATH\./],
  ])('refuses %s as a ConfigurationError before any launch', async (_what, options, message) => {
    const summary = await job(options);
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 0 });
    expect(summary.failureMessage).toMatch(message);
  }, 120_000);

  it('reports a second input missing from the store (HTTP 404), naming it, and releases the instance', async () => {
    // GIVEN a second input whose object is gone by the time the build fetches it
    const summary = await job({
      inputs: [{ name: 'Tools', dir: dir('t', { 't.txt': 't' }) }],
      beforeStarted: async () => {
        const listed = await cloud.s3.client.send(new ListObjectsV2Command({ Bucket: ARTIFACT_BUCKET, Prefix: 'local-pipeline/Tools/' }));
        for (const o of listed.Contents ?? []) await cloud.s3.client.send(new DeleteObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: o.Key }));
      },
    });
    // THEN the job fails naming that artifact, and the instance is released
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 1, instancesReleased: 1 });
    expect(summary.failureMessage).toMatch(/the input artifact 'Tools' does not exist in the artifact store \(HTTP 404\)\. Check that the previous stage produced it/);
  }, 120_000);
});
