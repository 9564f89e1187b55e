import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseProperties } from '../../lambdas/poller/job';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';
import { lambdaEntries } from '../../lib/bundling';
import { currentTemplate } from '../../local/synthesized';
import rootPackage from '../../package.json';

/**
 * The package as a user gets it: `npm pack`, installed into a copy of examples/cdk-pipeline (a CDK app of its own,
 * outside this repository), compiled against the package's declarations and synthesized offline, with no esbuild
 * or Docker in the app.
 */
const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'cdk-pipeline');
const CDK = path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> & { Code?: { S3Key: string }; Stages?: { Actions: { ActionTypeId: Record<string, string>; Configuration: Record<string, string> }[] }[] }; Metadata?: Record<string, string> }> };
const resources = (t: Template, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

jest.setTimeout(600_000);

describe('the packed package in a fresh CDK app', () => {
  let work: string;
  let app: string;
  let files: string[];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pack-'));
    // GIVEN the tarball npm pack makes (its prepack script compiles, copies the definitions and bundles the functions)
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = packed.files.map((f) => f.path);
    // AND the example app, installed from it as a user would (no esbuild, no TypeScript runner)
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    for (const name of ['bin', 'tsconfig.json', 'cdk.json']) fs.cpSync(path.join(EXAMPLE, name), path.join(app, name), { recursive: true });
    const dev = rootPackage.devDependencies;
    const manifest = {
      name: 'fresh-app',
      private: true,
      dependencies: { 'ec2-build-action': `file:${path.join(work, packed.filename)}`, 'aws-cdk-lib': dev['aws-cdk-lib'], constructs: dev.constructs, '@types/node': dev['@types/node'] },
    };
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, stdio: 'pipe' });
    execFileSync(process.execPath, [TSC, '-p', app], { cwd: app, stdio: 'pipe' });
  });

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const synth = (...args: string[]) =>
    spawnSync(process.execPath, [CDK, 'synth', '-q', '--app', 'node build/bin/app.js', '-o', 'cdk.out', ...args], { cwd: app, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

  it('ships compiled JavaScript, declarations, the definitions and a bundle per function', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/action.d.ts', 'dist/state-machines/build-job.asl.json', 'dist/ssm-documents/run-build.yaml', 'dist/action-types/Build-EC2-Build-1.json']));
    expect(files).toEqual(expect.arrayContaining(lambdaEntries().map((e) => `dist/bundles/${e}/index.js`)));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
  });

  it('synthesizes offline a pipeline whose build names the action type the provider registers', async () => {
    // WHEN the app is synthesized
    const run = synth();
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    // THEN the pipeline's custom action is the provider's action type
    const read = (stack: string) => JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', `${stack}.template.json`), 'utf8')) as Template;
    const [type] = resources(read('Ec2BuildProvider'), 'AWS::CodePipeline::CustomActionType');
    const [pipeline] = resources(read('Ec2BuildPipeline'), 'AWS::CodePipeline::Pipeline');
    const ours = (pipeline.Properties.Stages ?? []).flatMap((s) => s.Actions).filter((a) => a.ActionTypeId.Owner === 'Custom');
    expect(ours).toHaveLength(1);
    expect(ours[0].ActionTypeId).toEqual({ Owner: 'Custom', Category: type.Properties.Category, Provider: type.Properties.Provider, Version: type.Properties.Version });
    expect(ours[0].Configuration).toMatchObject({ InstanceType: 'c7g.large,m7g.large', Command: 'bash build.sh', OutputArtifactPath: 'dist', TimeoutMinutes: '30' });
    // AND its functions are the packed bundles, byte for byte the code this repository tests (same asset hashes)
    const codeKeys = (t: Template) => resources(t, 'AWS::Lambda::Function').map((f) => f.Properties.Code?.S3Key).sort();
    const repo = JSON.parse(fs.readFileSync(await currentTemplate(), 'utf8')) as Template;
    expect(codeKeys(read('Ec2BuildProvider'))).toEqual(codeKeys(repo));
    // Every function but the Spot interruption handler, which a stack gets only with a fleet that buys Spot.
    expect(codeKeys(repo)).toHaveLength(lambdaEntries().filter((e) => e !== 'spot-interruption').length);
  });

  it('runs a build on the provider as the user\'s app synthesizes it, in the local cloud with its IAM enforced', async () => {
    // GIVEN the local cloud deploying the user's provider stack (its construct path, stack name and asset hashes)
    const cloud = await LocalCloud.start(undefined, { template: path.join(app, 'cdk.out', 'Ec2BuildProvider.template.json') });
    try {
      // WHEN a job runs on it
      const summary = await runJob(cloud, { source: path.join(ROOT, 'examples', 'hello'), command: 'bash build.sh' });
      // THEN it succeeds with one result and its instance released
      expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1, instancesReleased: 1 });
    } finally {
      await cloud.stop();
    }
  });

  it('fails synth on a malformed ImageId with the poller\'s own message', () => {
    let message = '';
    try {
      parseProperties({ ImageId: 'ami-notahexid', InstanceType: 'c7g.large', Command: 'make' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^ImageId must be an AMI ID/);
    const run = synth('-c', 'imageId=ami-notahexid');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`Ec2BuildAction 'BuildOnEc2': ${message}`);
  });
});
