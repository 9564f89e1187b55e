import { App } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PINS_DIR } from '../../lib/action-type-snapshot';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';

/**
 * A stack that moved to version 2 and keeps version 1, run by the local cloud with its IAM enforced: a pipeline still
 * on version 1 and one already on version 2 both get their builds.
 */
let cloud: LocalCloud;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-version-'));
  const directory = path.join(work, 'pins');
  fs.cpSync(PINS_DIR, directory, { recursive: true });
  // As `cdk synth` does: construct paths in the template's metadata (the local cloud finds functions by them).
  const app = new App({ outdir: path.join(work, 'cdk.out'), context: { 'aws:cdk:enable-path-metadata': true } });
  new Ec2BuildActionStack(app, 'Ec2BuildAction', { version: '2', previousVersions: ['1'], actionTypePin: { directory, writeMissing: true } });
  app.synth();
  cloud = await LocalCloud.start(undefined, { template: path.join(work, 'cdk.out', 'Ec2BuildAction.template.json') });
}, 300_000);

afterAll(async () => {
  await cloud?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a provider keeping version 1 beside version 2', () => {
  it('registers both, with version 2 current', () => {
    expect(cloud.actionTypes.map((t) => t.version).sort()).toEqual(['1', '2']);
    expect(cloud.actionType.version).toBe('2');
  });

  it.each(['1', '2'])('runs a job of version %s to one result, its instance released', async (version) => {
    const summary = await runJob(cloud, { source: path.join(__dirname, '../../examples/hello'), command: 'bash build.sh', actionVersion: version });
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1, instancesReleased: 1 });
  });

  it('refuses a job for a version the template does not register', async () => {
    await expect(runJob(cloud, { source: null, command: 'true', actionVersion: '3' })).rejects.toThrow('the template registers no version 3 of the action type (it has 1, 2)');
  });
});
