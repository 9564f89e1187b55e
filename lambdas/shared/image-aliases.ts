/**
 * Short names for the AMIs AWS and Canonical publish, each a name for `resolve:ssm:` and the public Parameter Store
 * parameter that holds the image's current AMI ID. `ImageId` and a fleet's `imageId` take them. Pure TypeScript (no
 * SDK, no CDK): the poller, the fleets' parser, the launcher and lib/ share it.
 *
 * The parameters, as their publishers document them:
 * - Amazon Linux 2023: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<x86_64|arm64>, and
 *   Windows Server 2022: /aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base (x86_64 only)
 *   (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html;
 *   https://aws.amazon.com/blogs/mt/query-for-the-latest-windows-ami-using-systems-manager-parameter-store/);
 * - Ubuntu 24.04 LTS, Canonical's: /aws/service/canonical/ubuntu/server/24.04/stable/current/<amd64|arm64>/hvm/ebs-gp3/ami-id
 *   (ubuntu/<product>/<release>/stable/current/<arch>/hvm/<volume>/ami-id, gp3 volumes from 24.04:
 *   https://discourse.ubuntu.com/t/finding-ubuntu-images-with-the-aws-ssm-parameter-store/15507).
 * The local cloud seeds the same names (local/services/ssm-parameters.ts); a test keeps the two in step.
 * Whether the Linux or the Windows step of the build document runs is decided on the instance by its agent
 * (each step's platformType precondition), so it follows the image an alias resolves to, as for any AMI.
 */
export const IMAGE_ALIASES = {
  al2023: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  'al2023-arm64': '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
  'ubuntu-24.04': '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
  'ubuntu-24.04-arm64': '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
  'windows-2022': '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
} as const;

export type ImageAlias = keyof typeof IMAGE_ALIASES;

export const IMAGE_ALIAS_NAMES = Object.keys(IMAGE_ALIASES) as ImageAlias[];

export function isImageAlias(value: string): value is ImageAlias {
  return Object.prototype.hasOwnProperty.call(IMAGE_ALIASES, value);
}

/** The `resolve:ssm:` image id an alias names; any other value unchanged. */
export function expandImageAlias(imageId: string): string {
  return isImageAlias(imageId) ? `resolve:ssm:${IMAGE_ALIASES[imageId]}` : imageId;
}
