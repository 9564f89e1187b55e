import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';

/** A CloudFormation template as JSON, the shape the static checks read. */
export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> } & Record<string, unknown>;

/**
 * The real stack synthesized as `cdk synth` would (same props as test/cdk/stack.test.ts, with subnets so the
 * capacity-fallback path is in the template), for checks that read the template itself: the static IAM check
 * and cfn-lint.
 */
export function synthesizeStack(): CfnTemplate {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-static-')) });
  const stack = new Ec2BuildActionStack(app, 'Ec2BuildAction', {
    subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'],
  });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}
