import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { stopAbandonedBuilds } from '../../lambdas/abandon/stop';
import { executionName } from '../../lambdas/poller/dispatch';

/**
 * "Stop and abandon" finds the abandoned action's build from the running executions' names (#16): a page of
 * ListExecutions per 1,000 running builds and a DescribeExecution for the build whose name carries the action's key,
 * not one DescribeExecution per running build.
 */
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

it('describes only the build whose name carries the abandoned action\'s key, among 1,000 running builds', async () => {
  // GIVEN 1,000 running builds, each of its own pipeline execution, one of them the abandoned action's
  const pipelines = Array.from({ length: 1000 }, (_, i) => ({ name: 'app', executionId: `pe-${i}`, stage: 'Build', action: 'Ec2' }));
  const names = pipelines.map((p, i) => executionName(`${String(i).padStart(8, '0')}-2222-3333-4444-555555555555`, `nonce-${i}`, p));
  const arnOf = (name: string) => `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;
  sfn.on(ListExecutionsCommand).callsFake((input: { maxResults?: number; nextToken?: string }) => {
    const from = Number(input.nextToken ?? 0);
    const to = from + (input.maxResults || 100);
    return { executions: names.slice(from, to).map((name) => ({ executionArn: arnOf(name), name })), ...(to < names.length ? { nextToken: String(to) } : {}) };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const i = names.indexOf(input.executionArn.split(':').pop() ?? '');
    return { status: 'RUNNING', input: JSON.stringify({ jobId: 'job', pipeline: pipelines[i] }) };
  });
  sfn.on(StopExecutionCommand).resolves({});
  // WHEN the action of pipeline execution pe-417 is abandoned
  const stopped = await stopAbandonedBuilds(MACHINE, { pipeline: 'app', 'execution-id': 'pe-417', stage: 'Build', action: 'Ec2' }, new Logger({ serviceName: 'abandon', logLevel: 'ERROR' }));
  // THEN its build is stopped, after one page of names and one DescribeExecution
  expect(stopped).toBe(1);
  expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: arnOf(names[417]) });
  expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(1);
  expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
});
