import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { installIamGate, LOCAL_USER, removeIamGate, stackResourceState } from '../../local/iam/gate';
import { credentialsFor } from '../../local/iam/identity';
import type { DeployedFunction } from '../../local/lambda/functions';
import type { InvokeOutcome } from '../../local/lambda/invoker';
import { LocalLambdaApi } from '../../local/services/lambda-api';
import { loadStack, type LocalStack } from '../../local/template/stack';
import { synthesizeStack } from '../cdk/synthesized';

/**
 * Lambda's Invoke API as the functions' own SDK clients call it (local/services/lambda-api.ts): authorized as the
 * calling role against the template (lambda:InvokeFunction on the function), with Lambda's own errors.
 */
describe("the local Lambda API", () => {
  let stack: LocalStack;
  let api: LocalLambdaApi;
  let endpoint: string;
  const queued: { name: string; payload: unknown }[] = [];
  let functions: DeployedFunction[] = [];
  let answer: InvokeOutcome = { payload: { ok: true } };

  const roleOf = (functionPrefix: string) => {
    const [, props] = stack.resources('AWS::Lambda::Function').find(([id]) => id.startsWith(functionPrefix))!;
    const arn = String(props.Role);
    return Object.keys(stack.template.Resources).find((id) => stack.typeOf(id) === 'AWS::IAM::Role' && stack.getAtt(id, 'Arn') === arn)!;
  };
  const fnAt = (prefix: string) => functions.find((f) => f.logicalId.startsWith(prefix))!;
  const client = (role: string) => new LambdaClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: credentialsFor(role) });

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-api-'));
    const file = path.join(dir, 'Ec2BuildAction.template.json');
    fs.writeFileSync(file, JSON.stringify(synthesizeStack()));
    stack = loadStack(file);
    functions = stack.resources('AWS::Lambda::Function').map(([logicalId]) => ({
      logicalId,
      name: stack.ref(logicalId),
      arn: stack.getAtt(logicalId, 'Arn'),
      lambda: { invoke: async () => answer },
    })) as unknown as DeployedFunction[];
    api = new LocalLambdaApi(
      (name) => functions.find((f) => f.name === name || f.arn === name),
      (fn, payload) => queued.push({ name: fn.name, payload }),
    );
    endpoint = await api.start();
    installIamGate(stack, stackResourceState(stack, () => null));
  });
  afterAll(async () => {
    removeIamGate();
    await api.stop();
  });
  beforeEach(() => {
    queued.length = 0;
    answer = { payload: { ok: true } };
  });

  it('queues an Event invocation by a role allowed to invoke the function, and answers 202', async () => {
    const watcher = fnAt('ReadinessWatcher');
    const out = await client(roleOf('TasksInstanceCheck')).send(new InvokeCommand({ FunctionName: watcher.name, InvocationType: 'Event', Payload: Buffer.from('{"owner":"o-1"}') }));
    expect(out.StatusCode).toBe(202);
    expect(queued).toEqual([{ name: watcher.name, payload: { owner: 'o-1' } }]);
  });

  it('lets the watcher hand over to itself, by ARN', async () => {
    const watcher = fnAt('ReadinessWatcher');
    const out = await client(roleOf('ReadinessWatcher')).send(new InvokeCommand({ FunctionName: watcher.arn, InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(out.StatusCode).toBe(202);
  });

  it('refuses a role without lambda:InvokeFunction on the function (AccessDeniedException, 403), and queues nothing', async () => {
    const watcher = fnAt('ReadinessWatcher');
    await expect(client(roleOf('PollerFunction')).send(new InvokeCommand({ FunctionName: watcher.name, InvocationType: 'Event', Payload: Buffer.from('{}') }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    // The instance check may start the watcher only, not any other function.
    await expect(client(roleOf('TasksInstanceCheck')).send(new InvokeCommand({ FunctionName: fnAt('PollerFunction').name, InvocationType: 'Event', Payload: Buffer.from('{}') }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(queued).toEqual([]);
  });

  it('answers ResourceNotFoundException for a function that does not exist, and InvalidRequestContentException for a payload that is not JSON', async () => {
    const role = roleOf('TasksInstanceCheck');
    // A role that may not invoke it is refused before anything says whether it exists, as IAM comes first on AWS.
    await expect(client(role).send(new InvokeCommand({ FunctionName: 'no-such-function', InvocationType: 'Event', Payload: Buffer.from('{}') }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(client(LOCAL_USER).send(new InvokeCommand({ FunctionName: 'no-such-function', InvocationType: 'Event', Payload: Buffer.from('{}') }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(client(role).send(new InvokeCommand({ FunctionName: fnAt('ReadinessWatcher').name, InvocationType: 'Event', Payload: Buffer.from('not json') }))).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
  });

  it("returns a synchronous invocation's result, and a function's error as Unhandled", async () => {
    const role = roleOf('ReadinessWatcher');
    const watcher = fnAt('ReadinessWatcher');
    const ok = await client(role).send(new InvokeCommand({ FunctionName: watcher.arn, Payload: Buffer.from('{}') }));
    expect(JSON.parse(Buffer.from(ok.Payload!).toString())).toEqual({ ok: true });
    answer = { error: { errorType: 'Boom', errorMessage: 'went wrong', trace: [] } };
    const failed = await client(role).send(new InvokeCommand({ FunctionName: watcher.arn, Payload: Buffer.from('{}') }));
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload!).toString())).toMatchObject({ errorType: 'Boom' });
  });
});
