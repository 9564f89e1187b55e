import type { LocalStack } from '../template/stack';
import type { Authorizer } from './authorize';

/**
 * What AWS services do with the stack's roles on their own, which no request of ours makes: Step
 * Functions sets up log delivery when the state machine is created with a LoggingConfiguration
 * (CreateStateMachine refuses a role without these rights) and sends X-Ray traces as the state
 * machine's role when tracing is on; Lambda writes each function's logs as the function's role.
 * The local cloud authorizes them as those services would, when it deploys the stack.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
 */
const LOG_DELIVERY = ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'];
const TRACING = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];

function roleOf(stack: LocalStack, logicalId: string, property: string): string | null {
  const raw = (stack.template.Resources[logicalId].Properties ?? {})[property] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  return raw?.['Fn::GetAtt']?.[0] ?? null;
}

/** Authorizes the services' own uses of the stack's roles; throws as CreateStateMachine would for log delivery. */
export async function authorizeServiceUses(stack: LocalStack, authorizer: Authorizer): Promise<void> {
  for (const [id, props] of stack.resources('AWS::StepFunctions::StateMachine')) {
    const role = roleOf(stack, id, 'RoleArn');
    if (!role) continue;
    if (props.LoggingConfiguration) {
      for (const action of LOG_DELIVERY) {
        if (!(await authorizer.isAllowed(role, { action, resource: '*' }))) {
          throw new Error(`CreateStateMachine ${id}: AccessDeniedException: The state machine IAM Role is not authorized to access the Log Destination (${action})`);
        }
      }
    }
    if ((props.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled) {
      for (const action of TRACING) await authorizer.isAllowed(role, { action, resource: '*' });
    }
  }
  for (const [id, props] of stack.resources('AWS::Lambda::Function')) {
    const role = roleOf(stack, id, 'Role');
    const group = (props.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup ?? `/aws/lambda/${stack.ref(id)}`;
    if (!role) continue;
    const stream = `arn:aws:logs:${stack.region}:${stack.account}:log-group:${group}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`;
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) await authorizer.isAllowed(role, { action, resource: stream });
  }
}
