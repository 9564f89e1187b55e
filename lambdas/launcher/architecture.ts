import { instanceTypeArchitectures, type ImageInfo } from '../shared/ec2';
import { errorCode, errorMessage, JobConfigurationError } from '../shared/errors';
import type { LaunchSpec } from './launch';

/**
 * The image's architecture against the instance types', before anything is launched. RunInstances refuses an AMI
 * whose architecture the type does not run (InvalidParameterValue, "The architecture 'arm64' of the specified instance
 * type does not match the architecture 'x86_64' of the specified AMI"), but only for the type it is trying, after a
 * Spot or capacity refusal of another maybe; checked here, every type of the list must fit and the message says which
 * do not and how to fix it. The image's Architecture comes from DescribeImages
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html), each type's from DescribeInstanceTypes
 * (ProcessorInfo.SupportedArchitectures: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ProcessorInfo.html).
 */

/** Instance types' architectures never change: a warm launcher keeps them for its life (one call per new type). */
export class TypeArchitectures {
  private readonly known = new Map<string, readonly string[]>();

  /**
   * The architectures of `spec`'s types: those not yet known in one DescribeInstanceTypes. A type EC2 does not offer
   * (InvalidInstanceType: "The following supplied instance types do not exist: [...]") is a ConfigurationError; a
   * type EC2 leaves out of its answer is not checked (RunInstances still refuses a mismatch).
   */
  async of(spec: LaunchSpec): Promise<ReadonlyMap<string, readonly string[]>> {
    const missing = spec.instanceTypes.filter((t) => !this.known.has(t));
    if (missing.length > 0) {
      let found: Map<string, readonly string[]>;
      try {
        found = await instanceTypeArchitectures(missing);
      } catch (err) {
        // InvalidParameterValue: a name outside EC2's list of types, as a model-checking endpoint answers it.
        if (errorCode(err) === 'InvalidInstanceType' || errorCode(err) === 'InvalidParameterValue') {
          throw new JobConfigurationError(
            `${spec.typesName} ${JSON.stringify(spec.instanceTypes.join(','))} names a type EC2 does not offer in this Region (${errorCode(err)}: ${errorMessage(err).slice(0, 300)}). Pick an instance type offered in this Region (the EC2 console's Instance types lists them).`,
            { cause: err },
          );
        }
        throw err;
      }
      for (const [type, architectures] of found) this.known.set(type, architectures);
    }
    return this.known;
  }
}

/** What to use instead, by the image's architecture. */
const FIX: Record<string, string> = {
  arm64: 'Use instance types that run arm64 (Graviton, e.g. c7g.large, m7g.large, t4g.medium), or an x86_64 image (e.g. al2023, ubuntu-24.04)',
  x86_64: 'Use instance types that run x86_64 (e.g. c7i.large, m7i.large, t3.medium), or an arm64 image for Graviton types (e.g. al2023-arm64, ubuntu-24.04-arm64)',
};

/** Throws a ConfigurationError naming every type that cannot run the image, and the fix; nothing is launched. */
export function checkArchitecture(spec: LaunchSpec, image: ImageInfo, architectures: ReadonlyMap<string, readonly string[]>): void {
  const arch = image.architecture;
  if (arch === null) return;
  const misfits = spec.instanceTypes.filter((t) => {
    const supported = architectures.get(t);
    return supported !== undefined && !supported.includes(arch);
  });
  if (misfits.length === 0) return;
  const runs = misfits.map((t) => `${t} runs ${architectures.get(t)!.join(' or ')}`).join(', ');
  throw new JobConfigurationError(
    `${spec.imageName} ${JSON.stringify(spec.imageId)} is an ${arch} image, but ${spec.typesName} does not match it (${runs}). ${FIX[arch] ?? `Use instance types that run ${arch}, or an image for the types`}: ${spec.imageName.split(' (')[0]} and ${spec.typesName} must name the same architecture.`,
  );
}
