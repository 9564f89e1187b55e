import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { LOCAL_USER } from '../../local/iam/gate';
import { createTableInput } from '../../local/services/dynamodb-tables';
import { doctoredTemplate } from './doctored-template';

/**
 * The local DynamoDB (dynalite behind the IAM gate and DynamoDB's published model) with a table the
 * template declares, as the fleets' pool table will be: a role allowed to claim items, a role
 * allowed to read them only.
 */
let cloud: LocalCloud;
let tableName: string;

const arnOf = (suffix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['PoolTable', 'Arn'] }, suffix]] });
const role = (actions: string[], resources: unknown[], condition?: Record<string, unknown>) => ({
  Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] } } },
  policy: (roleId: string) => ({
    Type: 'AWS::IAM::Policy',
    Properties: { PolicyName: `${roleId}Policy`, Roles: [{ Ref: roleId }], PolicyDocument: { Version: '2012-10-17', Statement: [{ Sid: 'Pool', Effect: 'Allow', Action: actions, Resource: resources, ...(condition ? { Condition: condition } : {}) }] } },
  }),
});

beforeAll(async () => {
  const template = await doctoredTemplate((t) => {
    const r = t.Resources as Record<string, unknown>;
    r.PoolTable = {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'instanceId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'instanceId', AttributeType: 'S' }, { AttributeName: 'fleet', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [{ IndexName: 'byFleet', KeySchema: [{ AttributeName: 'fleet', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    };
    // A table named in the template: Ref (and the table created) take its TableName.
    r.NamedTable = {
      Type: 'AWS::DynamoDB::Table',
      Properties: { TableName: 'fleet-pool-named', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }], ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } },
    };
    const claimer = role(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], [arnOf(''), arnOf('/index/*')]);
    const reader = role(['dynamodb:GetItem'], [arnOf('')]);
    // Fine-grained access: items of one partition key only (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
    const owner = role(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'], [arnOf('')], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['i-0pool000000000001'] } });
    Object.assign(r, {
      PoolClaimRole: claimer.Role, PoolClaimPolicy: claimer.policy('PoolClaimRole'),
      PoolReaderRole: reader.Role, PoolReaderPolicy: reader.policy('PoolReaderRole'),
      PoolOwnerRole: owner.Role, PoolOwnerPolicy: owner.policy('PoolOwnerRole'),
    });
  });
  cloud = await LocalCloud.start(undefined, { template });
  tableName = cloud.stack.ref('PoolTable');
});
afterAll(async () => {
  await cloud?.stop();
});

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));

/** Node's hashes in the shape SignatureV4 takes (as local/s3-auth.ts does). */
class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** A DynamoDB call signed (SigV4) as a role of the stack, answered as { status, body }. */
async function dynamodb(as: string, operation: string, input: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(cloud.dynamodb.endpoint);
  const signer = new SignatureV4({ service: 'dynamodb', region: 'us-east-1', credentials: credentialsFor(as), sha256: Sha256 });
  const body = JSON.stringify(input);
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {}, body,
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
  });
  const res = await fetch(cloud.dynamodb.endpoint, { method: 'POST', headers: signed.headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const errorName = (body: Record<string, unknown>) => String(body.__type).split('#').pop();

it('creates the template\'s tables at start, ACTIVE, with their key schema and indexes, and points the functions at DynamoDB', async () => {
  const { status, body } = await dynamodb(LOCAL_USER, 'DescribeTable', { TableName: tableName });
  expect(status).toBe(200);
  expect(body.Table).toMatchObject({
    TableName: 'Ec2BuildAction-PoolTable',
    TableStatus: 'ACTIVE',
    KeySchema: [{ AttributeName: 'instanceId', KeyType: 'HASH' }],
    BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'byFleet', KeySchema: [{ AttributeName: 'fleet', KeyType: 'HASH' }] })],
  });
  for (const fn of cloud.functions) expect(fn.lambda.spec.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(cloud.dynamodb.endpoint);
  const named = await dynamodb(LOCAL_USER, 'DescribeTable', { TableName: 'fleet-pool-named' });
  expect(named.body.Table).toMatchObject({ TableStatus: 'ACTIVE', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] });
  // Beside the stack's own pool table (lib/fleet-pools.ts), the two this test added.
  expect((await dynamodb(LOCAL_USER, 'ListTables', {})).body.TableNames).toEqual([cloud.stack.ref('FleetsTable1CBE5846'), 'Ec2BuildAction-PoolTable', 'fleet-pool-named'].sort());
});

it('refuses a table property it cannot honour instead of dropping it', () => {
  const stream = { KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], StreamSpecification: { StreamViewType: 'NEW_IMAGE' } };
  expect(() => createTableInput(cloud.stack, 'PoolTable', stream)).toThrow('PoolTable (AWS::DynamoDB::Table): the local cloud does not simulate StreamSpecification');
});

it('lets exactly one of 20 concurrent conditional claims of one item succeed; the 19 others get ConditionalCheckFailedException', async () => {
  // GIVEN a ready pool instance
  const key = { instanceId: { S: 'i-0pool000000000001' } };
  expect((await dynamodb('PoolClaimRole', 'PutItem', { TableName: tableName, Item: { ...key, fleet: { S: 'linux' }, state: { S: 'ready' } } })).status).toBe(200);
  // WHEN 20 jobs claim it at once
  const claims = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      dynamodb('PoolClaimRole', 'UpdateItem', {
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #s = :claimed, claimedBy = :job',
        ConditionExpression: '#s = :ready',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':ready': { S: 'ready' }, ':claimed': { S: 'claimed' }, ':job': { S: `job-${i}` } },
      }),
    ),
  );
  // THEN one wins, the others are told the condition failed, and the item names the winner
  const won = claims.flatMap((c, i) => (c.status === 200 ? [i] : []));
  expect(won).toHaveLength(1);
  expect(claims.filter((c) => c.status === 400 && errorName(c.body) === 'ConditionalCheckFailedException')).toHaveLength(19);
  const item = await dynamodb('PoolClaimRole', 'GetItem', { TableName: tableName, Key: key, ConsistentRead: true });
  expect(item.body.Item).toMatchObject({ state: { S: 'claimed' }, claimedBy: { S: `job-${won[0]}` } });
});

it('refuses a role without dynamodb:UpdateItem on the table, and a Query on an index it is not allowed, with AccessDeniedException', async () => {
  // Counted for this table only: the stack's own functions (the readiness watcher) use theirs meanwhile.
  const forwarded = () => cloud.dynamodb.forwardedByTable.get(tableName) ?? 0;
  const before = forwarded();
  const update = await dynamodb('PoolReaderRole', 'UpdateItem', {
    TableName: tableName, Key: { instanceId: { S: 'i-0pool000000000002' } }, UpdateExpression: 'SET #s = :x', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':x': { S: 'claimed' } },
  });
  expect(update.status).toBe(400);
  expect(errorName(update.body)).toBe('AccessDeniedException');
  expect(update.body.message).toContain(`is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`);
  // A Query on an index is authorized on the index's ARN: the claimer's table/*/index/* allows it, the reader has nothing there.
  const query = { TableName: tableName, IndexName: 'byFleet', KeyConditionExpression: 'fleet = :f', ExpressionAttributeValues: { ':f': { S: 'linux' } } };
  expect((await dynamodb('PoolClaimRole', 'Query', query)).status).toBe(200);
  const denied = await dynamodb('PoolReaderRole', 'Query', query);
  expect(errorName(denied.body)).toBe('AccessDeniedException');
  expect(denied.body.message).toContain(`dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}/index/byFleet`);
  // Only the allowed Query reached dynalite.
  expect(forwarded() - before).toBe(1);
});

it('refuses malformed requests by validation, before dynalite sees them', async () => {
  const forwarded = () => (cloud.dynamodb.forwardedByTable.get(tableName) ?? 0) + (cloud.dynamodb.forwardedByTable.get('ab') ?? 0);
  const before = forwarded();
  // The model: Key is required; ReturnValuesOnConditionCheckFailure is ALL_OLD or NONE.
  const noKey = await dynamodb('PoolClaimRole', 'UpdateItem', { TableName: tableName, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } });
  expect(errorName(noKey.body)).toBe('ValidationException');
  expect(noKey.body.message).toBe("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
  const badEnum = await dynamodb('PoolClaimRole', 'UpdateItem', { TableName: tableName, Key: { instanceId: { S: 'i-1' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } }, ReturnValuesOnConditionCheckFailure: 'EVERYTHING' });
  expect(errorName(badEnum.body)).toBe('ValidationException');
  expect(badEnum.body.message).toContain("at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]");
  // The naming rule the model (which also takes an ARN there) no longer encodes: a table name has 3 to 255 characters.
  const shortName = await dynamodb(LOCAL_USER, 'GetItem', { TableName: 'ab', Key: { instanceId: { S: 'i-1' } } });
  expect(errorName(shortName.body)).toBe('ValidationException');
  expect(shortName.body.message).toBe("1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3");
  expect(forwarded()).toBe(before);
});

it('gives dynamodb:LeadingKeys the partition keys a request touches, so a policy limited to one key refuses the others', async () => {
  const own = { instanceId: { S: 'i-0pool000000000001' } };
  const other = { instanceId: { S: 'i-0pool000000000099' } };
  expect((await dynamodb('PoolOwnerRole', 'GetItem', { TableName: tableName, Key: own })).status).toBe(200);
  expect(errorName((await dynamodb('PoolOwnerRole', 'GetItem', { TableName: tableName, Key: other })).body)).toBe('AccessDeniedException');
  const query = (value: string) => ({ TableName: tableName, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': 'instanceId' }, ExpressionAttributeValues: { ':v': { S: value } } });
  expect((await dynamodb('PoolOwnerRole', 'Query', query('i-0pool000000000001'))).status).toBe(200);
  expect(errorName((await dynamodb('PoolOwnerRole', 'Query', query('i-0pool000000000099'))).body)).toBe('AccessDeniedException');
  expect((await dynamodb('PoolOwnerRole', 'BatchGetItem', { RequestItems: { [tableName]: { Keys: [own] } } })).status).toBe(200);
  expect(errorName((await dynamodb('PoolOwnerRole', 'BatchGetItem', { RequestItems: { [tableName]: { Keys: [own, other] } } })).body)).toBe('AccessDeniedException');
});
