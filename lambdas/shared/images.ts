import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { JobConfigurationError } from './errors';
import { expandImageAlias } from './image-aliases';
import { IMAGE_ID } from './properties';

/** Parameter Store, read for images given as `resolve:ssm:<parameter>` or as a stock image alias. */
const client = new SSMClient({});

const ALIAS = 'resolve:ssm:';

/**
 * The AMI ID an image id stands for now: an AMI ID as is; a stock image alias (lambdas/shared/image-aliases.ts) as the
 * public parameter it names; `resolve:ssm:<parameter>` (optionally `:version` or
 * `:label`, which GetParameter takes as part of the name:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html) read with GetParameter at
 * each call, as RunInstances would read it at launch
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html), so the
 * launcher knows which image it launches and the refill can tell a pool instance built from an image that is no
 * longer the fleet's. The launcher reads the parameter itself instead of handing `resolve:ssm:` to RunInstances, so
 * RunInstances needs no ssm:GetParameters (which it would need to resolve one:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html). A parameter that is
 * missing, or holds something other than an AMI ID, is configuration to fix: JobConfigurationError naming the
 * parameter. Other errors (throttling, access denied) are thrown as SSM answered them.
 */
export async function resolveImageId(imageId: string): Promise<string> {
  const expanded = expandImageAlias(imageId);
  if (!expanded.startsWith(ALIAS)) return imageId;
  const parameter = expanded.slice(ALIAS.length);
  let value: string | undefined;
  try {
    value = (await client.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'ParameterNotFound' || name === 'ParameterVersionNotFound') {
      throw new JobConfigurationError(`The image parameter ${parameter} does not exist in Parameter Store (${name}); set the image to an existing parameter or an AMI ID.`, { cause: err });
    }
    throw err;
  }
  if (value === undefined || !IMAGE_ID.test(value)) {
    throw new JobConfigurationError(`The image parameter ${parameter} holds ${JSON.stringify(value ?? null)}, not an AMI ID (ami-0123456789abcdef0).`);
  }
  return value;
}
