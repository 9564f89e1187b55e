import { AwsError } from './aws-error';
import { list, LOCAL_IMAGES } from './ec2-images';
import { xmlEscape } from './http';

/**
 * The instance types this simulated Region offers, and what EC2 says about their processors: DescribeInstanceTypes,
 * and RunInstances' refusal of an AMI whose architecture the type does not run.
 */

const FAMILIES = ['t3', 't3a', 't4g', 'm5', 'm6i', 'm6g', 'm7i', 'm7g', 'c5', 'c6i', 'c6g', 'c7i', 'c7g', 'r5', 'r6i', 'r7i', 'g4dn', 'g5', 'g6', 'p4d', 'p5', 'i4i'];
const SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge', 'metal'];

/**
 * Graviton families run arm64 only; the others here x86_64 only (ProcessorInfo.SupportedArchitectures, valid values
 * i386 | x86_64 | arm64 | x86_64_mac | arm64_mac: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ProcessorInfo.html;
 * Graviton is the "g" after the generation: https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html).
 */
const ARM_FAMILIES = new Set(['t4g', 'm6g', 'm7g', 'c6g', 'c7g']);

export function instanceTypeExists(type: string): boolean {
  const [family, size] = type.split('.');
  return FAMILIES.includes(family) && SIZES.includes(size);
}

/** The architectures a known instance type runs. */
export function supportedArchitectures(type: string): readonly string[] {
  return ARM_FAMILIES.has(type.split('.')[0]) ? ['arm64'] : ['x86_64'];
}

/** Every type, in a stable order (the listing's pages). */
const ALL_TYPES = FAMILIES.flatMap((family) => SIZES.map((size) => `${family}.${size}`));

/**
 * RunInstances refuses an AMI whose architecture the instance type does not run, with InvalidParameterValue. The API
 * reference does not list the message; this is EC2's as users report it (e.g.
 * https://github.com/skypilot-org/skypilot/issues/6315, https://github.com/aws/eks-anywhere-build-tooling/pull/2158).
 */
export function checkArchitecture(imageId: string, instanceType: string): void {
  const image = LOCAL_IMAGES[imageId];
  const supported = supportedArchitectures(instanceType);
  if (!image || supported.includes(image.architecture)) return;
  throw new AwsError(
    'InvalidParameterValue',
    `The architecture '${supported[0]}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.`,
  );
}

/** DescribeInstanceTypes' page size when MaxResults is not given (the reference gives no default: the largest it allows). */
const DEFAULT_PAGE = 100;

/**
 * DescribeInstanceTypes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html):
 * the named types (InstanceType.N, at most 100: the model checks it), or every type a page at a time (MaxResults 5 to
 * 100, NextToken). A named type the Region does not offer fails the whole call with InvalidInstanceType, as EC2
 * answers it ("The following supplied instance types do not exist: [i8ge.xlarge]":
 * https://github.com/scylladb/scylla-cluster-tests/issues/12419; the reference lists no error). Filters are not
 * simulated: a request with one is refused rather than answered unfiltered.
 */
export function describeInstanceTypes(p: URLSearchParams): string {
  if (p.has('Filter.1.Name')) throw new AwsError('InvalidParameterValue', 'The local EC2 does not simulate DescribeInstanceTypes filters; name the types (InstanceType.N).');
  const named = list(p, 'InstanceType');
  let types: readonly string[];
  let nextToken = '';
  if (named.length > 0) {
    // The reference does not say whether names and pagination go together: refused here, the stricter reading.
    if (p.has('MaxResults') || p.has('NextToken')) throw new AwsError('InvalidParameterCombination', 'The parameter instanceTypes cannot be used with the parameter maxResults or nextToken');
    const unknown = [...new Set(named)].filter((t) => !instanceTypeExists(t));
    if (unknown.length > 0) throw new AwsError('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    types = [...new Set(named)];
  } else {
    const start = p.has('NextToken') ? Number(p.get('NextToken')) : 0;
    if (!Number.isInteger(start) || start < 0 || start >= ALL_TYPES.length) throw new AwsError('InvalidParameterValue', `Invalid value '${p.get('NextToken')}' for nextToken.`);
    const size = Number(p.get('MaxResults') ?? DEFAULT_PAGE);
    types = ALL_TYPES.slice(start, start + size);
    if (start + size < ALL_TYPES.length) nextToken = String(start + size);
  }
  const items = types.map((t) => {
    const archs = supportedArchitectures(t).map((a) => `<item>${a}</item>`).join('');
    return `<item><instanceType>${xmlEscape(t)}</instanceType><processorInfo><supportedArchitectures>${archs}</supportedArchitectures></processorInfo></item>`;
  });
  return `<DescribeInstanceTypesResponse><requestId>local</requestId><instanceTypeSet>${items.join('')}</instanceTypeSet>${nextToken ? `<nextToken>${nextToken}</nextToken>` : ''}</DescribeInstanceTypesResponse>`;
}
