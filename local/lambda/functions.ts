import * as path from 'node:path';
import { roleLogicalId } from '../deployment';
import type { LocalStack } from '../template/stack';
import { lambdaEnvironment, type BaseEnvironment } from './environment';
import { LambdaServiceError, LocalLambda, type InvokeOutcome } from './invoker';

/** One AWS::Lambda::Function of the template, deployed locally. */
export interface DeployedFunction {
  readonly logicalId: string;
  /** The construct path of the function inside the provider (aws:cdk:path without the stack, the provider's id and "/Resource"), e.g. "SafetyNets/Sweeper". */
  readonly path: string;
  readonly name: string;
  readonly arn: string;
  readonly roleLogicalId: string;
  readonly lambda: LocalLambda;
}

/**
 * Every function of the synthesized template, each from its own bundle (the asset the template's
 * S3Key names) with its Handler, Runtime, Timeout and MemorySize (CloudFormation's defaults 3 s and
 * 128 MB when absent: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-function.html),
 * its own variables and its role. `override` rewrites a variable the local cloud must change
 * (a duration in simulated time); everything else is the template's. `output` takes each line a function prints
 * (its log), named by the function: by default it goes to this process's standard output.
 */
export function deployFunctions(
  stack: LocalStack,
  base: BaseEnvironment,
  override: (name: string, value: string) => string = (_n, v) => v,
  output?: (functionName: string, line: string) => void,
): DeployedFunction[] {
  const prefix = providerPath(stack);
  return stack.resources('AWS::Lambda::Function').map(([logicalId, p]) => {
    const raw = stack.template.Resources[logicalId] as { Metadata?: Record<string, unknown> };
    const role = roleLogicalId(stack, logicalId, 'Role');
    const code = p.Code as { S3Key?: string; ZipFile?: string };
    if (!code.S3Key) throw new Error(`${logicalId}: only functions whose code is an asset of the cloud assembly run locally`);
    const name = stack.ref(logicalId);
    const variables = Object.fromEntries(
      Object.entries((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}).map(([k, v]) => [k, override(k, String(v))]),
    );
    const codeDir = stack.assetDir(code.S3Key);
    const runtime = String(p.Runtime ?? '');
    if (!runtime.startsWith('nodejs')) throw new Error(`${logicalId}: runtime ${JSON.stringify(runtime)}: only Node.js functions run in the local cloud`);
    const handler = String(p.Handler ?? '');
    const memoryMB = Number(p.MemorySize ?? 128);
    const env = lambdaEnvironment({ name, runtime, handler, memoryMB, codeDir, roleLogicalId: role, variables }, base);
    const cdkPath = String(raw.Metadata?.['aws:cdk:path'] ?? logicalId);
    // The Timeout counts real time: what a handler does in it (module loading, SDK calls) is real work.
    return {
      logicalId,
      path: cdkPath.split('/').slice(1 + prefix.length).filter((s) => s !== 'Resource').join('/'),
      name,
      arn: stack.getAtt(logicalId, 'Arn'),
      roleLogicalId: role,
      lambda: new LocalLambda({ name, arn: stack.getAtt(logicalId, 'Arn'), codeDir: path.resolve(codeDir), handler, runtime, timeoutSeconds: Number(p.Timeout ?? 3), memoryMB, env, region: stack.region, accountId: stack.account, output: output && ((line) => output(name, line)) }),
    };
  });
}

/**
 * Where the Ec2BuildProvider sits in the stack (the parts of its construct path after the stack's): `Default` in the
 * app's stack, whatever id a user gave it in theirs. Its action type is at <provider>/ActionType/Resource.
 */
function providerPath(stack: LocalStack): string[] {
  const paths = Object.values(stack.template.Resources as Record<string, { Type?: string; Metadata?: Record<string, unknown> }>)
    .filter((r) => r.Type === 'AWS::CodePipeline::CustomActionType')
    .map((r) => String(r.Metadata?.['aws:cdk:path'] ?? '').split('/'));
  // Its action types (the current version and those it keeps) sit side by side: <provider>/<id>/Resource.
  const prefixes = new Set(paths.map((p) => p.slice(1, -2).join('/')));
  if (paths.length === 0 || paths.some((p) => p.length < 3) || prefixes.size !== 1) {
    throw new Error(`the template must hold one Ec2BuildProvider's action types with their construct paths (aws:cdk:path metadata); found ${[...prefixes].join(', ') || 'none'}`);
  }
  return paths[0].slice(1, -2);
}

/** A Task state's lambda:invoke: synchronous, the function's error raised by its errorType with the error payload as Cause (local/services/sfn.ts). */
export async function invokeForStateMachine(fn: DeployedFunction, payload: unknown): Promise<unknown> {
  let outcome: InvokeOutcome;
  try {
    outcome = await fn.lambda.invoke(payload, 'RequestResponse');
  } catch (err) {
    // Step Functions names a Lambda API error Lambda.<Exception> (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html).
    if (err instanceof LambdaServiceError) throw Object.assign(new Error(err.message), { name: `Lambda.${err.code}` });
    throw err;
  }
  if ('error' in outcome) throw Object.assign(new Error(outcome.error.errorMessage), { name: outcome.error.errorType, functionError: outcome.error });
  return outcome.payload;
}

/** How the faults name a function: its construct, in kebab case ("completion", "artifact-urls"). */
export function faultName(fn: DeployedFunction): string {
  return fn.path.split('/').pop()!.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
