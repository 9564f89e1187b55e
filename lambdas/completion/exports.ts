import { executionNameOf } from '../shared/execution-names';
import { jobObjectKey, JobObjectTooLargeError, type JobObjects } from '../shared/job-objects';
import type { JobOutcome } from '../shared/types';

/**
 * The exported variables' values, as the build uploaded them (NAME=VALUE records, each ended by a NUL byte, written by
 * the document at the end of the build command), checked against CodePipeline's limits before they become the final
 * result's outputVariables: keys of [A-Za-z0-9@\-_]+ (the OutputVariablesKey shape of CodePipeline's published model;
 * variable names are a subset) and "a maximum size limit of 122880 bytes for all output variables combined for a
 * particular action" (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html, Variable quotas). The docs
 * do not say whether names count toward that size: they are counted here, the stricter reading.
 */
export const OUTPUT_VARIABLES_MAX_BYTES = 122_880;

/** The completion's own errors about exports: the build succeeded but its variables cannot be reported. */
export class ExportsUnusableError extends Error {
  override readonly name = 'ExportsUnusableError';
}

/** The values of `names` in an uploaded object; a name the build left unset is exported empty. */
export function decodeExports(body: Buffer, names: readonly string[]): Record<string, string> {
  const values = new Map<string, string>();
  for (const record of body.toString('utf8').split('\0')) {
    const at = record.indexOf('=');
    if (at > 0) values.set(record.slice(0, at), record.slice(at + 1));
  }
  const out: Record<string, string> = {};
  for (const name of names) out[name] = values.get(name) ?? '';
  const bytes = Object.entries(out).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > OUTPUT_VARIABLES_MAX_BYTES) {
    const largest = Object.entries(out).sort((a, b) => b[1].length - a[1].length)[0][0];
    throw new ExportsUnusableError(
      `the exported variables take ${bytes} bytes (names and values); CodePipeline allows ${OUTPUT_VARIABLES_MAX_BYTES} for an action's output variables combined. Export less (the largest is ${largest}), or pass large data as an output artifact.`,
    );
  }
  return out;
}

/**
 * The output variables of a succeeded build, or the failure that replaces its success when they cannot be reported
 * (never uploaded, too large). A job that exports nothing reads nothing.
 */
export async function outputVariables(exported: string | undefined, executionArn: string, objects: () => JobObjects): Promise<{ variables?: Record<string, string>; failure?: JobOutcome }> {
  if (!exported) return {};
  const names = exported.split(',');
  try {
    // The upload holds name=value records separated by NUL: at most the limit plus two bytes a name.
    const body = await objects()
      .read(jobObjectKey('exports', executionNameOf(executionArn)), OUTPUT_VARIABLES_MAX_BYTES + 2 * names.length)
      .catch((err: unknown) => {
        if (err instanceof JobObjectTooLargeError) throw new ExportsUnusableError(`the exported variables take more than the ${OUTPUT_VARIABLES_MAX_BYTES} bytes CodePipeline allows for an action's output variables combined. Export less, or pass large data as an output artifact.`);
        throw err;
      });
    // Missing, or unreadable (S3 answers AccessDenied for a missing object to a caller without s3:ListBucket).
    if (!body) throw new ExportsUnusableError('the build\'s exported variables never arrived (the upload phase did not send them). Retry the stage.');
    return { variables: decodeExports(body, names) };
  } catch (err) {
    if (!(err instanceof ExportsUnusableError)) throw err;
    return { failure: { status: 'Failed', failureType: 'JobFailed', message: `Step "Upload Output Artifact" failed: ${err.message}` } };
  }
}
