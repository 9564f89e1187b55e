import { SFN_PAYLOAD_BYTES } from './request-rules';

/**
 * Step Functions' payload quota on what a task hands back: "Maximum input or output size for a
 * task, state, or execution: 256 KiB of data as a UTF-8 encoded string"; beyond it the state fails
 * with States.DataLimitExceeded ("when the output of a connector is larger than payload size
 * quota"), a terminal error that States.ALL does not catch and that is not retried.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-error-representation
 */
export function withinPayloadQuota(stateName: string, result: unknown): unknown {
  const size = Buffer.byteLength(JSON.stringify(result ?? null), 'utf8');
  if (size <= SFN_PAYLOAD_BYTES) return result;
  const error = new Error(`The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit (${size} > ${SFN_PAYLOAD_BYTES}).`);
  // aws-local-stepfunctions honours these flags: no Retry and no Catch (not even States.ALL) applies.
  Object.assign(error, { name: 'States.DataLimitExceeded', isCatchable: false, isRetryable: false });
  return Promise.reject(error);
}
