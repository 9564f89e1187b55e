import type { Artifact } from '@aws-sdk/client-codepipeline';
import { JobConfigurationError } from '../shared/errors';
import { PROPERTY, outputPathProblem } from '../shared/properties';
import type { ArtifactLocation, NamedArtifact, NamedOutput } from '../shared/types';

/**
 * A job's input and output artifacts, checked before anything is launched: the first input is unzipped into the working
 * directory and the others each into a directory of their own; each output is zipped from the path OutputArtifactPath
 * gives it (one plain path for a single output, `name=path,name=path` for several).
 */

/** CodePipeline's limit for a custom action's artifacts of each kind, which action type version 3 declares (0 to 5). */
export const MAX_ARTIFACTS = 5;
/** CodePipeline's artifact name (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_InputArtifact.html). */
const ARTIFACT_NAME = /^[A-Za-z0-9_-]{1,100}$/;
/** One entry of the mapping form: an artifact name, '=', a path (which may hold '=' but no ','). */
const ENTRY = /^\s*([A-Za-z0-9_-]{1,100})\s*=(.*)$/s;

export interface JobArtifacts {
  readonly input: ArtifactLocation | null;
  readonly output: ArtifactLocation | null;
  /** The first output's path ('' without outputs): the document's OutputArtifactPath. */
  readonly outputArtifactPath: string;
  readonly secondaryInputs: NamedArtifact[];
  readonly secondaryOutputs: NamedOutput[];
  readonly secondaryOutputPaths: string;
}

function location(artifact: Artifact | undefined): ArtifactLocation | null {
  const s3 = artifact?.location?.s3Location;
  return s3?.bucketName && s3.objectKey ? { bucket: s3.bucketName, key: s3.objectKey } : null;
}

const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * The variables that point at a secondary input's directory: CODEPIPELINE_SRC_DIR_<name>, as CodeBuild names its
 * secondary sources' (CODEBUILD_SRC_DIR_<sourceIdentifier>: https://docs.aws.amazon.com/codebuild/latest/userguide/sample-multi-in-out.html;
 * in a pipeline, the CodeBuild action's identifier is the artifact's name: extraInputs in
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_codepipeline_actions.CodeBuildActionProps.html). A
 * sourceIdentifier holds only letters, digits and '_' (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html),
 * but an artifact name may hold '-', which no shell variable can: such a name also gets the variable with '_' for '-'
 * (the docs do not say what CodeBuild does with it, so both spellings are there). The document sets the same two.
 */
export function srcDirVariables(name: string): string[] {
  const variable = `CODEPIPELINE_SRC_DIR_${name}`;
  return name.includes('-') ? [variable, variable.replace(/-/g, '_')] : [variable];
}

function checkNames(list: readonly Artifact[], what: 'input' | 'output'): string[] {
  const names = list.map((a) => a.name ?? '');
  if (list.length > MAX_ARTIFACTS) {
    throw new JobConfigurationError(`The action declares ${list.length} ${what} artifacts (${quoted(names)}); CodePipeline allows a custom action ${MAX_ARTIFACTS}. Keep at most ${MAX_ARTIFACTS}.`);
  }
  for (const [i, name] of names.entries()) {
    if (!ARTIFACT_NAME.test(name)) throw new JobConfigurationError(`The ${what} artifact name ${JSON.stringify(name)} is not a CodePipeline artifact name (1 to 100 letters, digits, '_' or '-'). Rename it.`);
    if (names.indexOf(name) !== i) throw new JobConfigurationError(`The action names the ${what} artifact ${JSON.stringify(name)} twice. Declare each ${what} artifact once.`);
  }
  return names;
}

function inputsOf(inputs: readonly Artifact[]): { input: ArtifactLocation | null; secondaryInputs: NamedArtifact[] } {
  const names = checkNames(inputs, 'input');
  const located = inputs.map((a, i) => {
    const at = location(a);
    if (!at) throw new JobConfigurationError(`The input artifact "${names[i]}" has no S3 location. Check that the previous stage produced it.`);
    return { name: names[i], ...at };
  });
  const variables = new Map<string, string>();
  for (const { name } of located.slice(1)) {
    for (const variable of srcDirVariables(name)) {
      const other = variables.get(variable);
      if (other !== undefined) {
        throw new JobConfigurationError(`The input artifacts "${other}" and "${name}" would both be ${variable} in the build's environment. Rename one of them.`);
      }
      variables.set(variable, name);
    }
  }
  const [first, ...others] = located;
  return { input: first ? { bucket: first.bucket, key: first.key } : null, secondaryInputs: others };
}

/** OutputArtifactPath's `name=path,name=path` form, or null when the value is one plain path. */
function mapping(value: string): [string, string][] | null {
  const entries = value.split(',').map((e) => ENTRY.exec(e));
  if (entries.some((e) => e === null)) return null;
  return entries.map((e) => [e![1], e![2].trim()]);
}

/** The output artifacts OutputArtifactPath names, in its order, or null when it is one plain path. */
export function mappedOutputNames(value: string): string[] | null {
  return mapping(value.trim())?.map(([name]) => name) ?? null;
}

/** Each declared output's path, in the job's order, from OutputArtifactPath; throws naming the property and the fix. */
function outputPaths(names: readonly string[], value: string): string[] {
  const property = PROPERTY.outputArtifactPath;
  const example = names.map((n) => `${n}=PATH`).join(',');
  if (value === '') {
    throw new JobConfigurationError(`The action declares the output artifact${names.length > 1 ? 's' : ''} ${quoted(names)} but ${property} is empty. Set ${property} to what your build produces${names.length > 1 ? ` for each, like ${example}` : ''}, or remove the output artifact${names.length > 1 ? 's' : ''}.`);
  }
  const pairs = mapping(value);
  if (!pairs) {
    if (names.length === 1) return [value];
    throw new JobConfigurationError(`${property} is one path, ${JSON.stringify(value)}, but the action declares ${names.length} output artifacts (${quoted(names)}). Give each its path, like ${example}.`);
  }
  const paths = new Map<string, string>();
  for (const [name, path] of pairs) {
    if (!names.includes(name)) {
      throw new JobConfigurationError(`${property} names "${name}", which is not an output artifact of this action (it declares ${quoted(names)}). Give each declared output artifact its path, like ${example}.`);
    }
    if (paths.has(name)) throw new JobConfigurationError(`${property} names the output artifact "${name}" twice. Give each output artifact one path, like ${example}.`);
    const problem = path === '' ? 'is empty' : outputPathProblem(path);
    if (problem) throw new JobConfigurationError(`${property}: the path of the output artifact "${name}" ${problem}, got ${JSON.stringify(path)}. Name the file or directory your build writes, relative to the working directory.`);
    paths.set(name, path);
  }
  const missing = names.filter((n) => !paths.has(n));
  if (missing.length > 0) {
    throw new JobConfigurationError(`${property} gives no path for the output artifact${missing.length > 1 ? 's' : ''} ${quoted(missing)}. Add ${missing.map((n) => `${n}=PATH`).join(',')}: the file or directory your build writes for it, relative to the working directory.`);
  }
  return names.map((n) => paths.get(n)!);
}

function outputsOf(outputs: readonly Artifact[], outputArtifactPath: string): Pick<JobArtifacts, 'output' | 'outputArtifactPath' | 'secondaryOutputs' | 'secondaryOutputPaths'> {
  const none = { output: null, outputArtifactPath: '', secondaryOutputs: [], secondaryOutputPaths: '' };
  // An output without a location is none (as before several outputs were served).
  const located = outputs.filter((a) => location(a) !== null);
  if (located.length === 0) {
    if (outputArtifactPath) throw new JobConfigurationError(`${PROPERTY.outputArtifactPath} is "${outputArtifactPath}" but the action declares no output artifact. Add an output artifact to the action, or clear ${PROPERTY.outputArtifactPath}.`);
    return none;
  }
  const names = checkNames(located, 'output');
  const paths = outputPaths(names, outputArtifactPath);
  const secondaryOutputs = located.slice(1).map((a, i) => ({ name: names[i + 1], ...location(a)!, path: paths[i + 1] }));
  return {
    output: location(located[0]),
    outputArtifactPath: paths[0],
    secondaryOutputs,
    secondaryOutputPaths: secondaryOutputs.map((o) => `${o.name}=${o.path}`).join(','),
  };
}

/** The job's artifacts, or a JobConfigurationError naming what to fix. */
export function jobArtifacts(inputs: readonly Artifact[], outputs: readonly Artifact[], outputArtifactPath: string): JobArtifacts {
  return { ...inputsOf(inputs), ...outputsOf(outputs, outputArtifactPath) };
}
