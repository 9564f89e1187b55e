import { App } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PINS_DIR } from '../../lib/action-type-snapshot';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';

/**
 * A stack that moved to version 3 and keeps versions 1 and 2, run by the local cloud with its IAM enforced: pipelines
 * still on version 1 or 2 and one already on version 3 all get their builds.
 */
let cloud: LocalCloud;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-version-'));
  const directory = path.join(work, 'pins');
  fs.cpSync(PINS_DIR, directory, { recursive: true });
  // As `cdk synth` does: construct paths in the template's metadata (the local cloud finds functions by them).
  const app = new App({ outdir: path.join(work, 'cdk.out'), context: { 'aws:cdk:enable-path-metadata': true } });
  new Ec2BuildActionStack(app, 'Ec2BuildAction', { version: '3', previousVersions: ['1', '2'], actionTypePin: { directory, writeMissing: true } });
  app.synth();
  cloud = await LocalCloud.start(undefined, { template: path.join(work, 'cdk.out', 'Ec2BuildAction.template.json') });
}, 300_000);

afterAll(async () => {
  await cloud?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a provider keeping versions 1 and 2 beside version 3', () => {
  it('registers all three, with version 3 current', () => {
    expect(cloud.actionTypes.map((t) => t.version).sort()).toEqual(['1', '2', '3']);
    expect(cloud.actionType.version).toBe('3');
  });

  it.each(['1', '2', '3'])('runs a job of version %s to one result, its instance released', async (version) => {
    const summary = await runJob(cloud, { source: path.join(__dirname, '../../examples/hello'), command: 'bash build.sh', actionVersion: version });
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1, instancesReleased: 1 });
  });

  it('refuses a job for a version the template does not register', async () => {
    await expect(runJob(cloud, { source: null, command: 'true', actionVersion: '4' })).rejects.toThrow('the template registers no version 4 of the action type (it has 1, 2, 3)');
  });
});
