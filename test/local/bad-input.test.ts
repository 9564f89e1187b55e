import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { faultNamed } from '../../local/faults';
import { runJob, type JobOptions } from '../../local/job';

const HELLO = path.join(__dirname, '../../examples/hello');
let cloud: LocalCloud;
let tmp: string;

beforeAll(async () => {
  cloud = await LocalCloud.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
});
afterAll(async () => {
  await cloud.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Bad input known before launch: a ConfigurationError naming the property and the fix; nothing launched. */
const BEFORE_LAUNCH: [string, Partial<JobOptions>, RegExp][] = [
  ['a malformed ImageId', { imageId: 'latest-linux' }, /^ImageId must be an AMI ID like ami-0123456789abcdef0 or a stock image alias \(al2023, al2023-arm64, ubuntu-24\.04, ubuntu-24\.04-arm64, windows-2022\), got "latest-linux"\. Copy the AMI ID/],
  ['an AMI that does not exist', { imageId: 'ami-0fffffffffffffff0' }, /ImageId "ami-0fffffffffffffff0" .*InvalidAMIID.NotFound.*Use an AMI that exists in this Region/],
  ['an unknown instance type', { instanceType: 'z9.mega' }, /InstanceType "z9.mega" .*InvalidParameterValue.*Pick an instance type offered in this Region/],
  ['a malformed instance type list', { instanceType: 't3.medium;reboot' }, /^InstanceType must be an EC2 instance type/],
  ['an empty Command', { command: '' }, /^Command is empty\. Set it to the build command/],
  ['a blank Command', { command: ' \t ' }, /^Command is empty/],
  ['a WorkingDirectory that would run shell', { workingDirectory: '/tmp/$(touch pwned)' }, /^WorkingDirectory must not contain control characters, quotes or any of/],
  ['a WorkingDirectory that climbs out', { workingDirectory: '/opt/build/../../etc' }, /^WorkingDirectory must not contain a '\.\.' segment/],
  ['a relative WorkingDirectory', { workingDirectory: 'build' }, /^WorkingDirectory must be an absolute path/],
  ['an OutputArtifactPath that would run shell', { outputPath: 'dist; rm -rf ~' }, /^OutputArtifactPath must not contain control characters, quotes/],
  ['an OutputArtifactPath with a backquote', { outputPath: 'dist`id`' }, /^OutputArtifactPath must not contain/],
  ['an OutputArtifactPath that escapes the working directory', { outputPath: '../../etc' }, /^OutputArtifactPath must not contain a '\.\.' segment/],
  ['an absolute OutputArtifactPath', { outputPath: '/etc/passwd' }, /^OutputArtifactPath must be relative to the working directory/],
  ['a TimeoutMinutes that is not a number', { timeoutMinutes: 'soon' }, /^TimeoutMinutes must be a whole number of minutes from 1 to 1440/],
];

describe('bad input', () => {
  it.each(BEFORE_LAUNCH)('rejects %s as a ConfigurationError before any instance is launched', async (_what, options, message) => {
    // WHEN
    const summary = await runJob(cloud, { source: HELLO, command: 'bash build.sh', ...options });
    // THEN one result, naming the property and the fix, and nothing launched (so nothing ran)
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 0 });
    expect(summary.failureMessage).toMatch(message);
  });

  it('reports an output path that matches nothing after the build, and releases the instance', async () => {
    const summary = await runJob(cloud, { source: HELLO, command: 'bash build.sh', outputPath: 'no/such/dir', out: path.join(tmp, 'x.zip') });
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 1, instancesReleased: 1, outputArtifact: null });
    expect(summary.failureMessage).toMatch(/OutputArtifactPath 'no\/such\/dir' matched nothing in the working directory after the build\. Set it to/);
  });

  it('reports a missing input artifact, naming it, and releases the instance', async () => {
    const summary = await runJob(cloud, { source: HELLO, command: 'bash build.sh' }, faultNamed('input-missing'));
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesReleased: summary.instancesLaunched });
    expect(summary.failureMessage).toMatch(/the input artifact does not exist in the artifact store \(HTTP 404\)\. Check that the previous stage produced it/);
  });
});
