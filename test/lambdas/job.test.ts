import { JobConfigurationError } from '../../lambdas/shared/errors';
import { parseProperties, toBuildJob } from '../../lambdas/poller/job';
import { parseFleets } from '../../lambdas/shared/fleets';
import { polledJob } from '../fixtures/job';

const base = { ImageId: 'ami-0a1b2c3d4e5f67890', InstanceType: 't3.medium', Command: 'make' };

function problem(config: Record<string, string>): string {
  try {
    parseProperties({ ...base, ...config });
  } catch (err) {
    expect(err).toBeInstanceOf(JobConfigurationError);
    return (err as Error).message;
  }
  throw new Error('expected a JobConfigurationError');
}

describe('action properties', () => {
  it('accepts a minimal configuration and fills the defaults', () => {
    expect(parseProperties(base)).toEqual({ ...{ imageId: base.ImageId, instanceType: 't3.medium', fallbackInstanceTypes: [], command: 'make' }, workingDirectory: '', outputArtifactPath: '', timeoutMinutes: 60, fleet: '', exportedVariables: '', cachePaths: '' });
  });

  it.each([
    [{ ImageId: 'ami-123' }, /^ImageId must be an AMI ID.*got "ami-123"/],
    [{ ImageId: '' }, /^ImageId must be/],
    [{ InstanceType: 'huge' }, /^InstanceType must be an EC2 instance type.*got "huge"/],
    [{ InstanceType: 'c7i.large,,c6i.large' }, /^InstanceType must be an EC2 instance type.*\("" is not one\)/],
    [{ InstanceType: 'c7i.large,c7i.large' }, /^InstanceType may list at most 5 different instance types/],
    [{ InstanceType: 'a1.large,a2.large,a3.large,a4.large,a5.large,a6.large' }, /^InstanceType may list at most 5/],
    [{ Command: '   ' }, /^Command is empty/],
    [{ WorkingDirectory: 'relative/dir' }, /^WorkingDirectory must be an absolute path/],
    [{ WorkingDirectory: '/opt/$(reboot)' }, /^WorkingDirectory must not contain .*quotes/],
    [{ WorkingDirectory: '/opt/../etc' }, /^WorkingDirectory must not contain a '\.\.' segment/],
    [{ OutputArtifactPath: '../secrets' }, /^OutputArtifactPath must not contain a '\.\.' segment/],
    [{ OutputArtifactPath: '/etc/passwd' }, /^OutputArtifactPath must be relative/],
    [{ OutputArtifactPath: 'dist; rm -rf /' }, /^OutputArtifactPath must not contain/],
    [{ OutputArtifactPath: '.' }, /^OutputArtifactPath must name a file or directory/],
    [{ TimeoutMinutes: '0' }, /^TimeoutMinutes must be a whole number of minutes from 1 to 1440/],
    [{ TimeoutMinutes: '2.5' }, /^TimeoutMinutes must be a whole number/],
    [{ Command: 'x'.repeat(1001) }, /^Command is 1001 characters long; CodePipeline allows 1000/],
  ])('rejects bad input #%# with a message naming the property', (config, message) => {
    expect(problem(config)).toMatch(message);
  });

  it('reads a comma-separated InstanceType as a first choice and fallbacks', () => {
    expect(parseProperties({ ...base, InstanceType: ' c7i.xlarge, c6i.xlarge ,m7i.xlarge' })).toMatchObject({ instanceType: 'c7i.xlarge', fallbackInstanceTypes: ['c6i.xlarge', 'm7i.xlarge'] });
  });

  it('accepts paths with spaces and non-ASCII names, Windows paths and a custom timeout', () => {
    const p = parseProperties({ ...base, WorkingDirectory: 'C:\\Builds\\Mön projet', OutputArtifactPath: 'out dir/app.zip', TimeoutMinutes: '90' });
    expect(p).toMatchObject({ workingDirectory: 'C:\\Builds\\Mön projet', outputArtifactPath: 'out dir/app.zip', timeoutMinutes: 90 });
  });
});

describe('polled job → state machine input', () => {
  it('carries the artifact locations and the KMS key, never the credentials', () => {
    const job = toBuildJob(
      polledJob({ OutputArtifactPath: 'dist' }, {
        outputArtifacts: [{ name: 'Out', location: { type: 'S3', s3Location: { bucketName: 'artifacts', objectKey: 'app/Out/o.zip' } } }],
        encryptionKey: { id: 'arn:aws:kms:eu-west-1:123456789012:key/abc', type: 'KMS' },
      }),
    );
    expect(job).toMatchObject({ input: { bucket: 'artifacts', key: 'app/Src/in.zip' }, output: { key: 'app/Out/o.zip' }, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc', executionTimeout: '3600' });
    expect(JSON.stringify(job)).not.toMatch(/secret|AKIA/);
  });

  it('rejects an output artifact without OutputArtifactPath, and the reverse', () => {
    const withOutput = { outputArtifacts: [{ name: 'Out', location: { type: 'S3' as const, s3Location: { bucketName: 'b', objectKey: 'k' } } }] };
    expect(() => toBuildJob(polledJob({}, withOutput))).toThrow(/declares the output artifact "Out" but OutputArtifactPath is empty/);
    expect(() => toBuildJob(polledJob({ OutputArtifactPath: 'dist' }))).toThrow(/declares no output artifact/);
  });

  it('carries the pipeline context and the source revision the build\'s environment shows, empty where CodePipeline gives none', () => {
    const pipelineContext = { pipelineName: 'app', pipelineExecutionId: '0a1b2c3d-1111-2222-3333-444455556666', stage: { name: 'Build' }, action: { name: 'Compile.x86' } };
    const src = (revision?: string) => [{ name: 'Src', revision, location: { type: 'S3' as const, s3Location: { bucketName: 'artifacts', objectKey: 'k' } } }];
    expect(toBuildJob(polledJob({}, { pipelineContext, inputArtifacts: src('3f2a9c0e4b1d') })).context).toEqual({
      pipelineName: 'app',
      pipelineExecutionId: '0a1b2c3d-1111-2222-3333-444455556666',
      stageName: 'Build',
      actionName: 'Compile.x86',
      sourceRevision: '3f2a9c0e4b1d',
    });
    // A revision the document could not take (a quote, a space) reaches the build empty instead of failing it.
    expect(toBuildJob(polledJob({}, { pipelineContext, inputArtifacts: src('v1 "quoted"') })).context.sourceRevision).toBe('');
    expect(toBuildJob(polledJob({}, { pipelineContext: {}, inputArtifacts: [] })).context).toEqual({ pipelineName: '', pipelineExecutionId: '', stageName: '', actionName: '', sourceRevision: '' });
  });

  it('rejects an input artifact with no S3 location', () => {
    expect(() => toBuildJob(polledJob({}, { inputArtifacts: [{ name: 'Src' }] }))).toThrow(/input artifact "Src" has no S3 location/);
  });
});

describe('Fleet (action type version 2)', () => {
  const fleets = parseFleets({ linux: { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large', 'm7i.large'], market: 'spot-then-on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 20 } }, 'fleets');
  const onFleet = (name: string) => polledJob({ ImageId: '', InstanceType: '', Fleet: name });
  const renewal = { polledAt: new Date('2026-12-01T10:00:00Z'), seconds: 2700 };

  it('takes the fleet\'s image, types, market, cap and line bound into the job, and refreshes its place in line every 5 minutes', () => {
    const job = toBuildJob(onFleet('linux'), renewal, fleets);
    expect(job.properties).toMatchObject({ fleet: 'linux', imageId: '', instanceType: '' });
    expect(job.fleet).toEqual({ name: 'linux', imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large', 'm7i.large'], market: 'spot-then-on-demand', maxConcurrent: 4, maxQueueMinutes: 20, queueTimeoutSeconds: 1200, lineRefreshSeconds: 300, lineFirstReportSeconds: 30, pools: ['hot'] });
    // A job in line renews its job to report its place, so the line is not bound by the job's horizon; a shorter
    // renewal interval refreshes sooner.
    expect(toBuildJob(onFleet('linux'), { ...renewal, seconds: 20 }, fleets).fleet).toMatchObject({ queueTimeoutSeconds: 1200, lineRefreshSeconds: 20, lineFirstReportSeconds: 20 });
    // A fleet with no pool at any time has nothing to claim; one whose schedule keeps a pool does.
    const capOnly = { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 20 } as const;
    const scheduled = parseFleets({ cap: capOnly, office: { ...capOnly, schedules: [{ cron: '0 8 ? * MON-FRI *', timezone: 'Europe/Paris', hotPool: 0, stoppedPool: 2 }] } }, 'fleets');
    expect(toBuildJob(onFleet('cap'), renewal, scheduled).fleet!.pools).toEqual([]);
    expect(toBuildJob(onFleet('office'), renewal, scheduled).fleet!.pools).toEqual(['stopped']);
    // A job without Fleet has none, as before.
    expect(toBuildJob(polledJob(), renewal, fleets).fleet).toBeNull();
  });

  it('refuses an unknown fleet naming the fleets there are, and any fleet when the stack has none', () => {
    expect(() => toBuildJob(onFleet('Linux'), renewal, fleets)).toThrow('Fleet must be one of this stack\'s fleets (linux), got "Linux". Fleet names are case-sensitive.');
    expect(() => toBuildJob(onFleet('linux'), renewal, {})).toThrow(/^Fleet names a fleet, but this stack has none, got "linux"\. Clear it and set ImageId and InstanceType, or add the fleet to the stack/);
  });

  it('refuses Fleet together with ImageId or InstanceType, naming which', () => {
    expect(() => toBuildJob(polledJob({ Fleet: 'linux' }), renewal, fleets)).toThrow('Fleet "linux" chooses the image and instance types, but ImageId and InstanceType are set too. Clear ImageId and InstanceType to build on the fleet, or clear Fleet to launch from them.');
    expect(() => toBuildJob(polledJob({ Fleet: 'linux', InstanceType: '' }), renewal, fleets)).toThrow(/but ImageId is set too\. Clear ImageId/);
  });

  it('accepts any fleet name where the fleets are not known (an action checked at synth against a provider deployed elsewhere)', () => {
    expect(toBuildJob(onFleet('anything'), renewal, null).fleet).toBeNull();
  });
});

describe('hold on failure (EC2_BUILD_ACTION_HOLD_MINUTES in EnvironmentVariables, else the stack\'s)', () => {
  const withHold = (value: string, type = 'PLAINTEXT') => polledJob({ EnvironmentVariables: JSON.stringify([{ name: 'EC2_BUILD_ACTION_HOLD_MINUTES', value, type }]) });

  it('takes the stack\'s hold for an action that sets none, and the action\'s own over it', () => {
    expect(toBuildJob(polledJob(), undefined, {}, undefined, 15).holdMinutes).toBe(15);
    expect(toBuildJob(polledJob()).holdMinutes).toBe(0);
    expect(toBuildJob(withHold('30'), undefined, {}, undefined, 15).holdMinutes).toBe(30);
    expect(toBuildJob(withHold('0'), undefined, {}, undefined, 15).holdMinutes).toBe(0);
  });

  it.each([['-1'], ['1.5'], ['721'], ['ten'], ['']])('refuses %j as a ConfigurationError naming the variable, before anything is launched', (value) => {
    expect(() => toBuildJob(withHold(value))).toThrow(JobConfigurationError);
    expect(() => toBuildJob(withHold(value))).toThrow(/EC2_BUILD_ACTION_HOLD_MINUTES/);
  });

  it('refuses a hold that is not PLAINTEXT', () => {
    expect(() => toBuildJob(withHold('/builds/hold', 'PARAMETER_STORE'), undefined, {}, { parameterPrefixes: ['/builds/'], secretPrefixes: [] })).toThrow(/EC2_BUILD_ACTION_HOLD_MINUTES must be PLAINTEXT/);
  });
});
