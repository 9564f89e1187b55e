import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { RUNNING_COMMAND_STATUSES, type ActionTypeRef } from '../lambdas/shared/types';

/**
 * The EventBridge patterns of the stack's rules. Plain data, so the local runner routes its
 * simulated events with the very patterns the stack deploys.
 */

/**
 * STARTED events of these versions of one action type only (the provider's current version and those it keeps).
 * The version may arrive as a string or a number.
 */
export function startedEventPattern(actionTypes: readonly ActionTypeRef[]): EventPattern {
  const [actionType] = actionTypes;
  const version: unknown[] = actionTypes.flatMap((t) => (/^\d+$/.test(t.version) ? [t.version, Number(t.version)] : [t.version]));
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
export function abandonedEventPattern(actionTypes: readonly ActionTypeRef[]): EventPattern {
  const pattern = startedEventPattern(actionTypes);
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
