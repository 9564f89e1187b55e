import { lambdaEnvironment, type FunctionIdentity } from '../../local/lambda/environment';

const fn: FunctionIdentity = {
  name: 'Ec2BuildAction-SafetyNetsSweeperD9B881FE',
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  memoryMB: 256,
  codeDir: '/tmp/asset.abc',
  roleLogicalId: 'SafetyNetsSweeperRoleB79E6EB4',
  variables: { STACK_TAG_VALUE: 'Ec2BuildAction' },
};
const base = { endpoints: { EC2: 'http://127.0.0.1:1234' }, region: 'us-east-1', extra: { POWERTOOLS_LOG_LEVEL: 'SILENT' } };

describe("a function's environment, as Lambda builds it", () => {
  it('has the variables Lambda defines, credentials that name its role, the local endpoints and its own variables', () => {
    const env = lambdaEnvironment(fn, base);
    expect(env).toEqual(
      expect.objectContaining({
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        _HANDLER: 'index.handler',
        LAMBDA_TASK_ROOT: '/tmp/asset.abc',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'LOCALSafetyNetsSweeperRoleB79E6EB4',
        AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:1234',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        STACK_TAG_VALUE: 'Ec2BuildAction',
      }),
    );
  });

  it('refuses a function whose variables set a key Lambda reserves', () => {
    expect(() => lambdaEnvironment({ ...fn, variables: { AWS_REGION: 'eu-west-1' } }, base)).toThrow(/reserved keys .*AWS_REGION/);
  });

  it('refuses variables over 4 KB in all', () => {
    expect(() => lambdaEnvironment({ ...fn, variables: { A: 'x'.repeat(4096) } }, base)).toThrow(/exceeded the 4KB limit/);
    expect(() => lambdaEnvironment({ ...fn, variables: { A: 'x'.repeat(4000) } }, base)).not.toThrow();
  });
});
