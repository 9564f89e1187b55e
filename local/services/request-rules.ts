import { AwsError } from './aws-error';

/**
 * The documented request rules that no service model encodes, by service and operation, each with
 * the page that states it. validate.ts applies them after the model's own constraints (AWS checks
 * the model first), before the local service's behaviour. Limits the models do encode are not
 * repeated here: CodePipeline's failure message ≤ 5000 characters (FailureDetails.message) and
 * SSM's command comment ≤ 100 characters (SendCommand Comment) come from the model.
 */
export type Rule = (input: Record<string, unknown>) => AwsError | undefined;

/** Step Functions' payload quota: 256 KiB as a UTF-8 string, for execution input, task output and every state's output. */
export const SFN_PAYLOAD_BYTES = 262_144;

/**
 * Systems Manager: the total size of a command's parameters, 64 KB. SendCommand's only documented
 * size limit is its MaxDocumentSizeExceeded error, "The size limit of a document is 64 KB"
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html#API_SendCommand_Errors);
 * the API reference gives no separate limit on Parameters. CreateDocument's Content says the parameters count
 * toward the document's 64 KB ("This quota also includes the content specified for input parameters at runtime":
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html#systemsmanager-CreateDocument-request-Content).
 * The local service refuses parameters over 64 KB with that error here, and the document and its parameters together
 * over 64 KB in SendCommand itself (ssm.ts, which knows the document); the product's largest command (five presigned
 * URLs, the environment's two, a task token, the build command) is checked against both in test/lambdas/artifact-sizes.test.ts.
 */
export const SSM_PARAMETERS_BYTES = 65_536;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function validJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Step Functions ARNs (Service Authorization Reference, resource types:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html#awsstepfunctions-resources-for-iam-policies):
 * stateMachine `arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}`,
 * execution `…:execution:${StateMachineName}:${ExecutionId}`. Anything else is InvalidArn
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html#API_DescribeExecution_Errors).
 */
function sfnArn(member: string, type: 'stateMachine' | 'execution'): Rule {
  const shape = type === 'stateMachine' ? /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/ : /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
  return (input) => {
    const value = input[member];
    if (value === undefined || shape.test(String(value))) return undefined;
    return new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${String(value)}'`);
  };
}

/**
 * An execution's name must not contain white space, brackets < > { } [ ], wildcards ? *,
 * " # % \ ^ | ~ ` $ & , ; : / or control characters (U+0000-001F, U+007F-009F); else InvalidName.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name
 */
const executionName: Rule = (input) => {
  const name = input.name;
  if (name === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u.test(String(name))) return new AwsError('InvalidName', `Invalid Name: '${String(name)}'`);
  return undefined;
};

/**
 * A Step Functions payload (execution input, task output) is JSON (else InvalidExecutionInput /
 * InvalidOutput) of at most 256 KiB, measured "as bytes in UTF-8 encoding" while the model's
 * length counts characters, so multi-byte text is refused here.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-input
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html#StepFunctions-SendTaskSuccess-request-output
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
function sfnPayload(member: string, invalidCode: string): Rule {
  return (input) => {
    const value = input[member];
    if (value === undefined) return undefined;
    const text = String(value);
    if (bytes(text) > SFN_PAYLOAD_BYTES) {
      return new AwsError('ValidationException', `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${SFN_PAYLOAD_BYTES}`);
    }
    if (!validJson(text)) return new AwsError(invalidCode, `Invalid ${member === 'input' ? 'Execution Input' : 'Output'}: the ${member} is not valid JSON`);
    return undefined;
  };
}

/**
 * "outputVariables can be included only when there is no continuation token on the request."
 * The page names no error code for it; ValidationException is the operation's error for an
 * invalid request. https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html#CodePipeline-PutJobSuccessResult-request-outputVariables
 */
const outputVariablesOnlyWhenFinal: Rule = (input) =>
  input.outputVariables !== undefined && input.continuationToken !== undefined
    ? new AwsError('ValidationException', 'outputVariables can be included only when there is no continuation token on the request')
    : undefined;

/**
 * "There is a maximum size limit of 122880 bytes for all output variables combined for a particular action"
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html, Variable quotas); PutJobSuccessResult's error
 * for it is OutputVariablesSizeExceededException ("Exceeded the total size limit for all variables in the pipeline",
 * API_PutJobSuccessResult.html, Errors). The page does not say whether names count: here they do, the stricter reading.
 */
export const OUTPUT_VARIABLES_MAX_BYTES = 122_880;
const outputVariablesSize: Rule = (input) => {
  const variables = input.outputVariables as Record<string, string> | undefined;
  if (!variables) return undefined;
  const bytes = Object.entries(variables).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
  return bytes > OUTPUT_VARIABLES_MAX_BYTES
    ? new AwsError('OutputVariablesSizeExceededException', `Exceeded the total size limit for all variables in the pipeline: ${bytes} bytes, at most ${OUTPUT_VARIABLES_MAX_BYTES}`)
    : undefined;
};

/** The bytes of a command's parameters: each name and its values. */
export const parameterBytes = (parameters: Record<string, string[]>) => Object.entries(parameters).reduce((n, [k, vs]) => n + bytes(k) + vs.reduce((m, v) => m + bytes(v), 0), 0);

/** See SSM_PARAMETERS_BYTES. */
const parametersSize: Rule = (input) => {
  const parameters = input.Parameters as Record<string, string[]> | undefined;
  if (!parameters) return undefined;
  const size = parameterBytes(parameters);
  return size > SSM_PARAMETERS_BYTES ? new AwsError('MaxDocumentSizeExceeded', `The parameters total ${size} bytes; the size limit is 64 KB (${SSM_PARAMETERS_BYTES} bytes)`) : undefined;
};

/**
 * RunInstances: MinCount and MaxCount are each "between 1 and the maximum number you're allowed";
 * InvalidParameterValue otherwise. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html#API_RunInstances_RequestParameters
 */
const instanceCounts: Rule = (input) => {
  for (const name of ['MinCount', 'MaxCount']) {
    if (Number(input[name]) < 1) return new AwsError('InvalidParameterValue', `Value (${String(input[name])}) for parameter ${name} is invalid. Must be at least 1`);
  }
  return undefined;
};

/**
 * DescribeInstances: "You cannot specify this parameter [MaxResults] and the instance IDs parameter
 * in the same request." https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html#API_DescribeInstances_RequestParameters
 */
const maxResultsWithoutIds: Rule = (input) =>
  input.MaxResults !== undefined && Array.isArray(input.InstanceIds) && input.InstanceIds.length > 0
    ? new AwsError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults')
    : undefined;

/**
 * DynamoDB's TableName takes a name or the table's ARN, so the model allows 1 to 1024 characters
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-TableName);
 * a name is 3 to 255 characters of a-z A-Z 0-9 _ - . (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html)
 * and an ARN is arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html#amazondynamodb-resources-for-iam-policies).
 * The pages give no wording for the refusal: ValidationException in the model's words. Batch calls
 * name their tables as the keys of RequestItems.
 */
const DYNAMODB_TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/([^/]+)$/;
function dynamodbTableName(value: string, at: string): AwsError | undefined {
  const name = DYNAMODB_TABLE_ARN.exec(value)?.[1] ?? value;
  const length = [...name].length;
  const broken = [
    length < 3 ? 'Member must have length greater than or equal to 3' : '',
    length > 255 ? 'Member must have length less than or equal to 255' : '',
    /^[a-zA-Z0-9_.-]+$/.test(name) ? '' : 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+',
  ].filter(Boolean);
  if (!broken.length) return undefined;
  const details = broken.map((c) => `Value '${value}' at '${at}' failed to satisfy constraint: ${c}`);
  return new AwsError('ValidationException', `${broken.length} validation error${broken.length > 1 ? 's' : ''} detected: ${details.join('; ')}`);
}
const dynamodbTable: Rule = (input) => (input.TableName === undefined ? undefined : dynamodbTableName(String(input.TableName), 'tableName'));
const dynamodbBatchTables: Rule = (input) => {
  for (const name of Object.keys(input.RequestItems ?? {})) {
    const refused = dynamodbTableName(name, 'requestItems');
    if (refused) return refused;
  }
  return undefined;
};

export const RULES: Record<string, Record<string, readonly Rule[]>> = {
  CodePipeline: {
    PutJobSuccessResult: [outputVariablesOnlyWhenFinal, outputVariablesSize],
  },
  SSM: {
    SendCommand: [parametersSize],
  },
  StepFunctions: {
    StartExecution: [sfnArn('stateMachineArn', 'stateMachine'), executionName, sfnPayload('input', 'InvalidExecutionInput')],
    SendTaskSuccess: [sfnPayload('output', 'InvalidOutput')],
    DescribeExecution: [sfnArn('executionArn', 'execution')],
    StopExecution: [sfnArn('executionArn', 'execution')],
    GetExecutionHistory: [sfnArn('executionArn', 'execution')],
    ListExecutions: [sfnArn('stateMachineArn', 'stateMachine')],
  },
  DynamoDB: {
    ...Object.fromEntries(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'CreateTable', 'DescribeTable', 'UpdateTable', 'DeleteTable', 'DescribeTimeToLive'].map((op) => [op, [dynamodbTable]])),
    BatchGetItem: [dynamodbBatchTables],
    BatchWriteItem: [dynamodbBatchTables],
  },
  EC2: {
    RunInstances: [instanceCounts],
    DescribeInstances: [maxResultsWithoutIds],
  },
};
