import type { Artifact } from '@aws-sdk/client-codepipeline';
import { toBuildJob } from '../../lambdas/poller/job';
import { polledJob } from '../fixtures/job';

/** Several input and output artifacts (issue #13): what the poller hands the state machine, and what it refuses before launch. */
const artifact = (name: string): Artifact => ({ name, location: { type: 'S3', s3Location: { bucketName: 'artifacts', objectKey: `app/${name}/x.zip` } } });
const job = (inputs: string[], outputs: string[], outputArtifactPath?: string) =>
  toBuildJob(polledJob(outputArtifactPath === undefined ? {} : { OutputArtifactPath: outputArtifactPath }, { inputArtifacts: inputs.map(artifact), outputArtifacts: outputs.map(artifact) }));
const refusal = (inputs: string[], outputs: string[], outputArtifactPath?: string) => {
  try {
    job(inputs, outputs, outputArtifactPath);
  } catch (err) {
    expect(err).toMatchObject({ name: 'JobConfigurationError' });
    return (err as Error).message;
  }
  throw new Error('the job was accepted');
};

describe('a job\'s several artifacts', () => {
  it('hands over the first input and output as before, and the others by name with their paths', () => {
    // GIVEN three inputs and two outputs, named in OutputArtifactPath
    const built = job(['Src', 'Tools', 'shared-lib'], ['app', 'reports'], 'app=dist, reports = test results/junit');
    // THEN the first of each goes where the document has always looked, the others travel by name
    expect(built.input).toEqual({ bucket: 'artifacts', key: 'app/Src/x.zip' });
    expect(built.secondaryInputs).toEqual([{ name: 'Tools', bucket: 'artifacts', key: 'app/Tools/x.zip' }, { name: 'shared-lib', bucket: 'artifacts', key: 'app/shared-lib/x.zip' }]);
    expect(built.output).toEqual({ bucket: 'artifacts', key: 'app/app/x.zip' });
    expect(built.properties.outputArtifactPath).toBe('dist');
    expect(built.secondaryOutputs).toEqual([{ name: 'reports', bucket: 'artifacts', key: 'app/reports/x.zip', path: 'test results/junit' }]);
    expect(built.secondaryOutputPaths).toBe('reports=test results/junit');
  });

  it('keeps a single output\'s plain path, and takes it named too', () => {
    expect(job(['Src'], ['Out'], 'dist/app.zip')).toMatchObject({ properties: { outputArtifactPath: 'dist/app.zip' }, secondaryOutputs: [], secondaryOutputPaths: '' });
    expect(job(['Src'], ['Out'], 'Out=build=1')).toMatchObject({ properties: { outputArtifactPath: 'build=1' } });
    expect(job([], [], undefined)).toMatchObject({ input: null, output: null, secondaryInputs: [], secondaryOutputs: [] });
  });

  it('refuses a mapping that names an artifact the action does not declare, naming the property, the artifacts and the fix', () => {
    expect(refusal(['Src'], ['app', 'reports'], 'app=dist,report=test-results')).toBe('OutputArtifactPath names "report", which is not an output artifact of this action (it declares "app", "reports"). Give each declared output artifact its path, like app=PATH,reports=PATH.');
    expect(refusal(['Src'], ['Out'], 'app=dist')).toMatch(/^OutputArtifactPath names "app", which is not an output artifact of this action \(it declares "Out"\)/);
  });

  it('refuses a declared output with no path', () => {
    expect(refusal(['Src'], ['app', 'reports', 'docs'], 'app=dist')).toBe('OutputArtifactPath gives no path for the output artifacts "reports", "docs". Add reports=PATH,docs=PATH: the file or directory your build writes for it, relative to the working directory.');
    expect(refusal(['Src'], ['app', 'reports'], 'app=dist,reports=')).toMatch(/^OutputArtifactPath: the path of the output artifact "reports" is empty/);
    expect(refusal(['Src'], ['app', 'reports'], undefined)).toBe('The action declares the output artifacts "app", "reports" but OutputArtifactPath is empty. Set OutputArtifactPath to what your build produces for each, like app=PATH,reports=PATH, or remove the output artifacts.');
  });

  it('refuses duplicate names, in the mapping and among the artifacts', () => {
    expect(refusal(['Src'], ['app', 'reports'], 'app=dist,app=out,reports=r')).toMatch(/^OutputArtifactPath names the output artifact "app" twice\. Give each output artifact one path, like app=PATH,reports=PATH\.$/);
    expect(refusal(['Src', 'Src'], [])).toBe('The action names the input artifact "Src" twice. Declare each input artifact once.');
    // Two names that would be the same variable in the build's environment
    expect(refusal(['Src', 'my-lib', 'my_lib'], [])).toBe('The input artifacts "my-lib" and "my_lib" would both be CODEPIPELINE_SRC_DIR_my_lib in the build\'s environment. Rename one of them.');
  });

  it('refuses a plain path with several outputs, saying how to name each', () => {
    expect(refusal(['Src'], ['app', 'reports'], 'dist')).toBe('OutputArtifactPath is one path, "dist", but the action declares 2 output artifacts ("app", "reports"). Give each its path, like app=PATH,reports=PATH.');
  });

  it('refuses an unsafe path in a mapping, and more than five artifacts of a kind', () => {
    expect(refusal(['Src'], ['app', 'reports'], 'app=dist,reports=../up')).toMatch(/the path of the output artifact "reports" must not contain a '\.\.' segment, got "\.\.\/up"/);
    expect(refusal(['a', 'b', 'c', 'd', 'e', 'f'], [])).toMatch(/^The action declares 6 input artifacts .*CodePipeline allows a custom action 5/);
  });
});
