import { DescribeExecutionCommand, GetExecutionHistoryCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalStepFunctions } from '../../local/services/sfn';

const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Tokens';
const waitForToken = (timeoutSeconds: number) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: { FunctionName: 'Fn', Payload: { 'taskToken.$': '$$.Task.Token', 'round.$': '$.round' } },
  TimeoutSeconds: timeoutSeconds,
});
/** A first wait that times out after a second, then a second wait: a build's round, then its next after a renewal. */
const definition = JSON.stringify({
  StartAt: 'First Wait',
  States: {
    'First Wait': { ...waitForToken(1), Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'Second Wait' }], Next: 'Done' },
    'Second Wait': { ...waitForToken(30), ResultPath: '$.result', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
});

describe('local Step Functions: lambda:invoke.waitForTaskToken, stale tokens and the history', () => {
  const payloads: { taskToken: string }[] = [];
  const sfn = new LocalStepFunctions({
    stateMachineArn: STATE_MACHINE_ARN,
    definition,
    substitutions: {},
    functions: { Fn: async (payload) => (payloads.push(payload as { taskToken: string }), { returned: 'ignored' }) },
    msPerSecond: 1,
  });
  let client: SFNClient;
  beforeAll(async () => {
    client = new SFNClient(config(await sfn.start()));
  });
  afterAll(() => sfn.stop());

  it('invokes the function with the task token, refuses a timed-out task\'s token, and shows each task\'s parameters in the history', async () => {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'tokens-1', input: JSON.stringify({ round: 1 }) }));
    // GIVEN the first wait timed out and the second one waits
    await new Promise((r) => setTimeout(r, 1500));
    expect(payloads).toHaveLength(2);
    const [first, second] = payloads.map((p) => p.taskToken);
    expect(first).not.toBe(second);
    // THEN the first token is refused as Step Functions refuses it
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: first, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    // AND the history, newest first, has the second task scheduled with its token, linked to the state it entered
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true }));
    const scheduled = events!.find((e) => e.type === 'TaskScheduled')!;
    expect(JSON.parse(scheduled.taskScheduledEventDetails!.parameters!)).toEqual({ FunctionName: 'Fn', Payload: { taskToken: second, round: 1 } });
    expect(scheduled.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken' });
    expect(events!.find((e) => e.id === scheduled.previousEventId)).toMatchObject({ type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Second Wait' } });
    const ids = events!.map((e) => e.id!);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    // AND the second token resumes the execution with its output, not the function's return value
    await client.send(new SendTaskSuccessCommand({ taskToken: second, output: JSON.stringify({ built: true }) }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'SUCCEEDED' });
    const exited = (await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }))).events!.find((e) => e.stateExitedEventDetails?.name === 'Second Wait');
    expect(JSON.parse(exited!.stateExitedEventDetails!.output!)).toMatchObject({ result: { built: true } });
  });

  it('pages the history with maxResults and nextToken, and leaves the execution data out when asked', async () => {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'tokens-2', input: JSON.stringify({ round: 2 }) }));
    await new Promise((r) => setTimeout(r, 100));
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1, includeExecutionData: false }));
    expect(page.events).toHaveLength(1);
    expect(page.nextToken).toBeDefined();
    const next = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1, includeExecutionData: false, nextToken: page.nextToken }));
    expect(next.events![0]).toMatchObject({ id: 2, type: 'TaskScheduled', taskScheduledEventDetails: { parameters: '' } });
  });
});
