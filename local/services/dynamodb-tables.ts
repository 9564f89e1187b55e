import type { LocalStack } from '../template/stack';
import type { CreateTableInput, LocalDynamoDb } from './dynamodb';

/**
 * The template's AWS::DynamoDB::Table resources, created in the local DynamoDB as a deployment
 * creates them (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html):
 * the name Ref gives (TableName, else a generated one), key schema, attribute definitions, billing
 * mode and throughput, and the secondary indexes with the members CreateTable takes.
 *
 * Properties that change how the table behaves but that the local DynamoDB cannot honour are
 * refused, naming the property, rather than dropped: a stream (nothing would consume it), a
 * resource-based policy (the gate reads identity policies only: its Deny statements would be
 * ignored), an import (the data would be missing). Properties with no behaviour a build job can
 * observe locally (encryption, point-in-time recovery, deletion protection, table class, tags,
 * contributor insights, warm throughput) are not simulated.
 *
 * TimeToLiveSpecification is accepted and not enforced: dynalite has no UpdateTimeToLive, so
 * expired items stay. AWS "typically deletes expired items within two days of expiration" and
 * "items that have expired and not been deleted will still show up in reads, queries, and scans"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html), so
 * code must filter on the expiry itself either way; an expired item still there is a state AWS
 * shows too.
 */
const REFUSED = ['StreamSpecification', 'KinesisStreamSpecification', 'ResourcePolicy', 'ImportSourceSpecification'];

type Index = Record<string, unknown>;

function pick(source: Index, keys: readonly string[]): Index {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

/** The CreateTable request for one table resource of the stack. */
export function createTableInput(stack: LocalStack, logicalId: string, props: Record<string, unknown>): CreateTableInput {
  const refused = REFUSED.filter((k) => props[k] !== undefined);
  if (refused.length) throw new Error(`${logicalId} (AWS::DynamoDB::Table): the local cloud does not simulate ${refused.join(', ')}`);
  const input: CreateTableInput = {
    TableName: stack.ref(logicalId),
    ...pick(props, ['AttributeDefinitions', 'KeySchema', 'BillingMode', 'ProvisionedThroughput']),
  };
  const gsis = props.GlobalSecondaryIndexes as Index[] | undefined;
  if (gsis) input.GlobalSecondaryIndexes = gsis.map((g) => pick(g, ['IndexName', 'KeySchema', 'Projection', 'ProvisionedThroughput']));
  const lsis = props.LocalSecondaryIndexes as Index[] | undefined;
  if (lsis) input.LocalSecondaryIndexes = lsis.map((l) => pick(l, ['IndexName', 'KeySchema', 'Projection']));
  return input;
}

/** Creates every table of the template; returns their names. */
export async function createTemplateTables(stack: LocalStack, dynamodb: LocalDynamoDb): Promise<string[]> {
  const inputs = stack.resources('AWS::DynamoDB::Table').map(([id, props]) => createTableInput(stack, id, props));
  for (const input of inputs) await dynamodb.createTable(input);
  return inputs.map((i) => i.TableName);
}
