import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Authorizer, JSON_DENIALS, EC2_DENIALS } from '../../local/iam/authorize';
import { credentialsFor } from '../../local/iam/identity';
import type { RolePolicies } from '../../local/iam/policies';
import { checksFor, EC2_REQUESTS, SSM_REQUESTS, type ResourceState } from '../../local/iam/requests';
import { GATE } from '../../local/services/http';
import { LocalEc2, LOCAL_IMAGES } from '../../local/services/ec2';
import { LocalSsm } from '../../local/services/ssm';
import { PUBLIC_AMI_PARAMETERS } from '../../local/services/ssm-parameters';

/** Parameter Store's public AMI parameters in the local SSM, behind IAM, and the functions' resolveImageId on them. */

const AL2023_X86 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const AL2023_ARM = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';
const WINDOWS = '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base';
const UBUNTU_ARM = '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id';

const role = (name: string, statements: unknown[]): RolePolicies => ({
  role: name,
  roleArn: `arn:aws:iam::000000000000:role/${name}`,
  trustedServices: ['lambda.amazonaws.com'],
  policies: [{ name: `${name}Policy`, policy: { Version: '2012-10-17', Statement: statements } }],
});
const roles = new Map<string, RolePolicies>([
  // Public parameters' ARNs have no account; the account's own parameters have it.
  ['Launcher', role('Launcher', [
    { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters'], Resource: ['arn:aws:ssm:us-east-1::parameter/aws/service/*', 'arn:aws:ssm:us-east-1:000000000000:parameter/builds/*'] },
    { Effect: 'Allow', Action: 'ec2:DescribeImages', Resource: '*' },
  ])],
  ['NoParameters', role('NoParameters', [{ Effect: 'Allow', Action: 'ssm:DescribeInstanceInformation', Resource: '*' }])],
  // A grant naming the account on AWS's public parameters matches none of them.
  // A wildcard account matches the empty one, as IAM's * matches no characters too.
  ['AnyAccount', role('AnyAccount', [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:*:*:parameter/aws/service/*' }])],
  ['DeniedWindows', role('DeniedWindows', [
    { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' },
    { Effect: 'Deny', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-east-1::parameter/aws/service/ami-windows-latest/*' },
  ])],
  ['OwnAccount', role('OwnAccount', [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-east-1:000000000000:parameter/aws/service/*' }])],
]);
const state: ResourceState = { instanceTags: () => null, instanceRoleArn: () => null, securityGroups: () => [] };

const ssm = new LocalSsm({ documentName: 'BuildDoc', timing: { registerMs: 10 }, disksDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ssm-parameters-')), onEvent: () => undefined });
const ec2 = new LocalEc2({ bootMs: 60_000, shutdownMs: 10 });
const endpoints: Record<string, string> = {};
const ssmAs = (name: string) => new SSMClient({ endpoint: endpoints.ssm, region: 'us-east-1', maxAttempts: 1, credentials: credentialsFor(name) });
let images: typeof import('../../lambdas/shared/images');

beforeAll(async () => {
  endpoints.ssm = await ssm.start();
  endpoints.ec2 = await ec2.start();
  const authorizer = new Authorizer(roles);
  GATE.authorize = async (call) => {
    const [table, style] = call.service === 'SSM' ? [SSM_REQUESTS, JSON_DENIALS] : [EC2_REQUESTS, EC2_DENIALS];
    const checks = checksFor(table as Record<string, (i: unknown, s: ResourceState) => ReturnType<typeof checksFor>>, call.service, call.operation, call.input, state);
    await authorizer.authorize(call.accessKeyId, checks, style);
  };
  const launcher = credentialsFor('Launcher');
  Object.assign(process.env, { AWS_ENDPOINT_URL_SSM: endpoints.ssm, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: launcher.accessKeyId, AWS_SECRET_ACCESS_KEY: launcher.secretAccessKey, AWS_SESSION_TOKEN: launcher.sessionToken });
  // The module builds its SDK client when loaded: after the endpoint and credentials are set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  images = require('../../lambdas/shared/images') as typeof import('../../lambdas/shared/images');
});
afterAll(async () => {
  delete GATE.authorize;
  await Promise.all([ssm.stop(), ec2.stop()]);
});

describe('the local SSM serves AWS\'s public AMI parameters', () => {
  it('every seeded parameter names an image of the local EC2', () => {
    for (const ami of Object.values(PUBLIC_AMI_PARAMETERS)) expect(LOCAL_IMAGES[ami]).toBeDefined();
  });

  it('GetParameter answers the value with the public ARN (no account) and a version', async () => {
    const out = await ssmAs('Launcher').send(new GetParameterCommand({ Name: AL2023_X86 }));
    expect(out.Parameter).toMatchObject({ Name: AL2023_X86, Type: 'String', Value: PUBLIC_AMI_PARAMETERS[AL2023_X86], Version: 1, DataType: 'text', ARN: `arn:aws:ssm:us-east-1::parameter${AL2023_X86}` });
    expect(out.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
  });

  it('GetParameter of a name that does not exist is ParameterNotFound', async () => {
    await expect(ssmAs('Launcher').send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/no-such-image' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('GetParameters lists the names it cannot find in InvalidParameters', async () => {
    const out = await ssmAs('Launcher').send(new GetParametersCommand({ Names: [AL2023_ARM, '/aws/service/ami-windows-latest/Windows_Server-1999', UBUNTU_ARM] }));
    expect(out.Parameters?.map((p) => [p.Name, p.Value])).toEqual([[AL2023_ARM, PUBLIC_AMI_PARAMETERS[AL2023_ARM]], [UBUNTU_ARM, PUBLIC_AMI_PARAMETERS[UBUNTU_ARM]]]);
    expect(out.InvalidParameters).toEqual(['/aws/service/ami-windows-latest/Windows_Server-1999']);
  });

  it('GetParameters with more than 10 names, or none, is refused by the published model', async () => {
    await expect(ssmAs('Launcher').send(new GetParametersCommand({ Names: Array.from({ length: 11 }, () => AL2023_X86) }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(ssmAs('Launcher').send(new GetParametersCommand({ Names: [] }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('a new value is a new version; an older one stays readable by name:version', async () => {
    ssm.parameters.set('/builds/golden-ami', 'ami-0123456789abcdef0');
    ssm.parameters.set('/builds/golden-ami', 'ami-0fedcba9876543210');
    ssm.parameters.label('/builds/golden-ami', 'prod', 1);
    const client = ssmAs('Launcher');
    await expect(client.send(new GetParameterCommand({ Name: '/builds/golden-ami' }))).resolves.toMatchObject({ Parameter: { Value: 'ami-0fedcba9876543210', Version: 2, ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/builds/golden-ami' } });
    await expect(client.send(new GetParameterCommand({ Name: '/builds/golden-ami:1' }))).resolves.toMatchObject({ Parameter: { Value: 'ami-0123456789abcdef0', Selector: ':1' } });
    await expect(client.send(new GetParameterCommand({ Name: '/builds/golden-ami:prod' }))).resolves.toMatchObject({ Parameter: { Value: 'ami-0123456789abcdef0', Version: 1 } });
    await expect(client.send(new GetParameterCommand({ Name: '/builds/golden-ami:7' }))).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
  });
});

describe('IAM on Parameter Store', () => {
  it('refuses GetParameter to a role without ssm:GetParameter, naming the parameter\'s ARN', async () => {
    await expect(ssmAs('NoParameters').send(new GetParameterCommand({ Name: AL2023_X86 }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`ssm:GetParameter on resource: arn:aws:ssm:us-east-1::parameter${AL2023_X86}`),
    });
  });

  it('refuses a grant that names the account on a public parameter (public ARNs have none)', async () => {
    await expect(ssmAs('OwnAccount').send(new GetParameterCommand({ Name: AL2023_X86 }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('allows a grant whose account is a wildcard, and a Deny on the public ARN wins', async () => {
    await expect(ssmAs('AnyAccount').send(new GetParameterCommand({ Name: WINDOWS }))).resolves.toMatchObject({ Parameter: { Value: PUBLIC_AMI_PARAMETERS[WINDOWS] } });
    await expect(ssmAs('DeniedWindows').send(new GetParameterCommand({ Name: WINDOWS }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(ssmAs('DeniedWindows').send(new GetParameterCommand({ Name: AL2023_X86 }))).resolves.toMatchObject({ Parameter: { Name: AL2023_X86 } });
  });

  it('refuses GetParameters when any one name is outside the grant', async () => {
    await expect(ssmAs('Launcher').send(new GetParametersCommand({ Names: [AL2023_X86, '/other/parameter'] }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('ssm:GetParameters on resource: arn:aws:ssm:us-east-1:000000000000:parameter/other/parameter'),
    });
  });
});

describe('DescribeImages reports each image\'s architecture, and Windows images\' platform', () => {
  it('arm64 and windows where EC2 says so', async () => {
    const ec2Client = new EC2Client({ endpoint: endpoints.ec2, region: 'us-east-1', maxAttempts: 1, credentials: credentialsFor('Launcher') });
    const out = await ec2Client.send(new DescribeImagesCommand({ ImageIds: [PUBLIC_AMI_PARAMETERS[AL2023_ARM], PUBLIC_AMI_PARAMETERS[WINDOWS], PUBLIC_AMI_PARAMETERS[AL2023_X86]] }));
    expect(out.Images?.map((i) => [i.Architecture, i.Platform, i.PlatformDetails])).toEqual([
      ['arm64', undefined, 'Linux/UNIX'],
      ['x86_64', 'windows', 'Windows'],
      ['x86_64', undefined, 'Linux/UNIX'],
    ]);
  });
});

describe('resolveImageId (the functions\' helper), through the local SSM as a role allowed to read the parameters', () => {
  it('answers an AMI ID as it is, without asking SSM', async () => {
    await expect(images.resolveImageId('ami-0a1b2c3d4e5f67890')).resolves.toBe('ami-0a1b2c3d4e5f67890');
  });

  it('resolves resolve:ssm: to the parameter\'s current value, which a fault can change', async () => {
    await expect(images.resolveImageId(`resolve:ssm:${AL2023_X86}`)).resolves.toBe(PUBLIC_AMI_PARAMETERS[AL2023_X86]);
    ssm.parameters.set(UBUNTU_ARM, 'ami-0fedcba9876543210');
    await expect(images.resolveImageId(`resolve:ssm:${UBUNTU_ARM}`)).resolves.toBe('ami-0fedcba9876543210');
  });

  it('fails with JobConfigurationError naming a parameter that does not exist', async () => {
    await expect(images.resolveImageId('resolve:ssm:/builds/missing-ami')).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringContaining('/builds/missing-ami') });
  });

  it('fails with JobConfigurationError naming a parameter whose value is not an AMI ID', async () => {
    ssm.parameters.set('/builds/not-an-image', 'latest');
    await expect(images.resolveImageId('resolve:ssm:/builds/not-an-image')).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/\/builds\/not-an-image holds "latest", not an AMI ID/),
    });
  });

  it('passes an access denial on as SSM answered it', async () => {
    await expect(images.resolveImageId('resolve:ssm:/other/golden-ami')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
