import type { LocalStack } from '../template/stack';

/**
 * Lambda's resource-based policy, from the template's AWS::Lambda::Permission resources: whether a
 * service principal may invoke a function on behalf of a source (an EventBridge rule). Without one,
 * EventBridge's invocation is refused and the event never reaches the function
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions).
 */
export function lambdaInvokePermitted(stack: LocalStack, functionArn: string, principal: string, sourceArn: string): boolean {
  const functionName = functionArn.split(':').pop();
  return stack.resources('AWS::Lambda::Permission').some(([, p]) => {
    const fn = String(p.FunctionName);
    const action = String(p.Action);
    const source = p.SourceArn === undefined ? undefined : String(p.SourceArn);
    return (
      (fn === functionArn || fn === functionName) &&
      (action === 'lambda:InvokeFunction' || action === 'lambda:*') &&
      String(p.Principal) === principal &&
      (source === undefined || new RegExp(`^${source.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(sourceArn))
    );
  });
}
