import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { RUNNING_COMMAND_STATUSES, type ActionTypeRef } from '../lambdas/shared/types';

/**
 * The EventBridge patterns of the stack's rules. Plain data, so the local runner routes its
 * simulated events with the very patterns the stack deploys.
 */

/** STARTED events of this action type only. The version may arrive as a string or a number. */
export function startedEventPattern(actionType: ActionTypeRef): EventPattern {
  const version: unknown[] = [actionType.version];
  if (/^\d+$/.test(actionType.version)) version.push(Number(actionType.version));
  return {
    source: ['aws.codepipeline'],
    detailType: ['CodePipeline Action Execution State Change'],
    detail: {
      state: ['STARTED'],
      type: { owner: ['Custom'], category: [actionType.category], provider: [actionType.provider], version },
    },
  };
}

/** Invocations of the build document that finished. */
export function commandFinishedPattern(documentName: string): EventPattern {
  return {
    source: ['aws.ssm'],
    detailType: ['EC2 Command Invocation Status-change Notification'],
    detail: { 'document-name': [documentName], status: [{ 'anything-but': RUNNING_COMMAND_STATUSES }] as unknown[] },
  };
}

/** ABANDONED events of this action type ("Stop and abandon"). */
export function abandonedEventPattern(actionType: ActionTypeRef): EventPattern {
  const pattern = startedEventPattern(actionType);
  return { ...pattern, detail: { ...pattern.detail, state: ['ABANDONED'] } };
}

/** Build executions that ended outside their own Catch. */
export function executionEndedPattern(stateMachineArn: string): EventPattern {
  return {
    source: ['aws.states'],
    detailType: ['Step Functions Execution Status Change'],
    detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [stateMachineArn] },
  };
}
