import type { DeployedFunction } from '../lambda/functions';
import type { InvokeOutcome } from '../lambda/invoker';
import { lambdaInvokePermitted } from '../iam/resource-policies';
import type { LocalStack } from '../template/stack';
import { rateSeconds, type EventRule, type RuleTarget } from './events';

/**
 * The template's AWS::Events::Rule resources as the local bus runs them: each rule's EventPattern or
 * ScheduleExpression, each target a function of the template with its RetryPolicy, and Lambda's
 * asynchronous retries from the function's AWS::Lambda::EventInvokeConfig (2 when there is none:
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). A target the
 * local cloud cannot deliver as EventBridge would (not a function, an Input transformation) is
 * refused here rather than delivered differently.
 */
export function eventRules(stack: LocalStack, functions: readonly DeployedFunction[], invoke: (fn: DeployedFunction, event: unknown) => Promise<InvokeOutcome>): EventRule[] {
  const retriesOf = new Map<string, number>();
  for (const [, p] of stack.resources('AWS::Lambda::EventInvokeConfig')) {
    if (p.MaximumRetryAttempts !== undefined) retriesOf.set(String(p.FunctionName), Number(p.MaximumRetryAttempts));
  }
  return stack
    .resources('AWS::Events::Rule')
    .filter(([, p]) => p.State !== 'DISABLED')
    .map(([logicalId, p]) => {
      const targets = ((p.Targets ?? []) as Record<string, unknown>[]).map((t): RuleTarget => {
        const fn = functions.find((f) => f.arn === t.Arn);
        if (!fn) throw new Error(`rule ${logicalId}: target ${String(t.Arn)} is not a function of the template`);
        for (const unsupported of ['Input', 'InputPath', 'InputTransformer', 'DeadLetterConfig']) {
          if (t[unsupported] !== undefined) throw new Error(`rule ${logicalId}: target ${String(t.Id)} has ${unsupported}, which the local bus does not simulate`);
        }
        const policy = t.RetryPolicy as { MaximumRetryAttempts?: number } | undefined;
        const ruleArn = stack.getAtt(logicalId, 'Arn');
        const permitted = lambdaInvokePermitted(stack, fn.arn, 'events.amazonaws.com', ruleArn);
        return {
          functionName: fn.name,
          invoke: permitted
            ? (event) => invoke(fn, event)
            : () =>
                Promise.reject(
                  Object.assign(new Error(`events.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: ${fn.arn} (no AWS::Lambda::Permission for rule ${ruleArn})`), {
                    name: 'AccessDeniedException',
                    statusCode: 403,
                  }),
                ),
          // EventBridge's default retry policy: 185 attempts over 24 hours (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
          deliveryRetries: policy?.MaximumRetryAttempts ?? 185,
          functionRetries: retriesOf.get(fn.name) ?? retriesOf.get(fn.arn) ?? 2,
        };
      });
      return {
        name: stack.ref(logicalId),
        arn: stack.getAtt(logicalId, 'Arn'),
        pattern: p.EventPattern as Record<string, unknown> | undefined,
        schedule: p.ScheduleExpression as string | undefined,
        targets,
      };
    });
}

/**
 * How often a schedule runs, in real ms: its rate in simulated time, except a schedule that backs up
 * an event rule of the same function (the safety-net poll behind the STARTED rule), which runs every
 * `backupMs`: at its real rate it would only add waiting to the faults it exists for.
 */
export function schedulePeriodMs(rule: EventRule, rules: readonly EventRule[], msPerSecond: number, backupMs: number): number {
  const backsUpAnEventRule = rule.targets.some((t) => rules.some((r) => r.pattern && r.targets.some((u) => u.functionName === t.functionName)));
  return backsUpAnEventRule ? backupMs : rateSeconds(rule.schedule!) * msPerSecond;
}
