import { DescribeInstanceTypesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { IMAGE_ALIASES } from '../../lambdas/shared/image-aliases';
import { LocalEc2, LOCAL_IMAGES } from '../../local/services/ec2';
import { PUBLIC_AMI_PARAMETERS } from '../../local/services/ssm-parameters';

/** The local EC2's instance types: DescribeInstanceTypes as EC2 answers it, and RunInstances' architecture check. */
const ec2 = new LocalEc2({ bootMs: 60_000, shutdownMs: 10 });
let client: EC2Client;

beforeAll(async () => {
  client = new EC2Client({ endpoint: await ec2.start(), region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(() => ec2.stop());

const ARM_AMI = 'ami-0a1b2c3d4e5f6a7b8';
const X86_AMI = 'ami-0a1b2c3d4e5f67890';

describe('DescribeInstanceTypes', () => {
  it('answers each named type with the architectures it runs', async () => {
    const out = await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['c7g.large', 'c7i.large', 't4g.medium'] }));
    expect(out.InstanceTypes?.map((t) => [t.InstanceType, t.ProcessorInfo?.SupportedArchitectures])).toEqual([
      ['c7g.large', ['arm64']],
      ['c7i.large', ['x86_64']],
      ['t4g.medium', ['arm64']],
    ]);
  });

  it('fails the whole call with InvalidInstanceType for a type the Region does not offer, in EC2\'s words', async () => {
    await expect(client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['c7g.large', 'a1.large'] }))).rejects.toMatchObject({
      name: 'InvalidInstanceType',
      message: 'The following supplied instance types do not exist: [a1.large]',
    });
  });

  it('refuses a name outside EC2\'s list and more than 100 names, as the published model does', async () => {
    await expect(client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['z9.mega' as never] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const many = Array.from({ length: 101 }, () => 'c7g.large' as const);
    await expect(client.send(new DescribeInstanceTypesCommand({ InstanceTypes: many }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('lists every type a page at a time without names, and refuses the filters it does not simulate', async () => {
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const out = await client.send(new DescribeInstanceTypesCommand({ MaxResults: 100, NextToken }));
      seen.push(...(out.InstanceTypes ?? []).map((t) => t.InstanceType!));
      NextToken = out.NextToken;
    } while (NextToken);
    expect(seen).toContain('c7g.large');
    expect(new Set(seen).size).toBe(seen.length);
    await expect(client.send(new DescribeInstanceTypesCommand({ MaxResults: 4 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: 'processor-info.supported-architecture', Values: ['arm64'] }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('RunInstances and the image\'s architecture', () => {
  const run = (ImageId: string, InstanceType: 'c7i.large' | 'c7g.large') =>
    client.send(new RunInstancesCommand({ LaunchTemplate: { LaunchTemplateId: 'lt-0local0000000000' }, ImageId, InstanceType, MinCount: 1, MaxCount: 1 }));

  it('refuses an arm64 AMI on an x86_64 type and the reverse, with InvalidParameterValue in EC2\'s words', async () => {
    await expect(run(ARM_AMI, 'c7i.large')).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringMatching(/^The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI\. Specify an instance type and an AMI that have matching architectures/),
    });
    await expect(run(X86_AMI, 'c7g.large')).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringMatching(/^The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64'/) });
  });

  it('launches an image on a type of its architecture', async () => {
    await expect(run(ARM_AMI, 'c7g.large')).resolves.toMatchObject({ Instances: [expect.objectContaining({ ImageId: ARM_AMI })] });
  });
});

describe('the stock image aliases in the local cloud', () => {
  it.each(Object.entries(IMAGE_ALIASES))('%s: its parameter is seeded and names an image of the alias\'s architecture and platform', (alias, parameter) => {
    const image = LOCAL_IMAGES[PUBLIC_AMI_PARAMETERS[parameter]];
    expect(image).toBeDefined();
    expect(image.architecture).toBe(alias.endsWith('-arm64') ? 'arm64' : 'x86_64');
    expect(image.platform).toBe(alias.startsWith('windows') ? 'Windows' : 'Linux/UNIX');
  });
});
