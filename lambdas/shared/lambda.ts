import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

/** All Lambda calls the functions make. */
const client = new LambdaClient({});

/**
 * Starts a function without waiting for it: InvocationType Event, which Lambda queues and answers with 202 at once
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). The payload is small JSON.
 */
export async function invokeAsync(functionName: string, payload: unknown): Promise<void> {
  await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
}
