import { presignDownload, presignUpload } from '../../lambdas/shared/artifacts';
import { MAX_CACHE_PATHS_LENGTH } from '../../lambdas/shared/cache-paths';
import { MAX_PROPERTY_LENGTH } from '../../lambdas/shared/properties';
import { documentBytes as deployedBytes, loadDocument, resolveParameters } from '../../local/services/ssm-document';
import { parameterBytes, SSM_PARAMETERS_BYTES } from '../../local/services/request-rules';

/**
 * The largest commands the state machine sends fit Systems Manager's limit: "The content of the document must not
 * exceed 64KB. This quota also includes the content specified for input parameters at runtime" (CreateDocument's
 * Content: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html#systemsmanager-CreateDocument-request-Content),
 * with five input or five output artifacts, each URL presigned with a session token as long as STS gives
 * (about 1,000 characters; 1,500 here), and every other value at the longest the poller lets through.
 */
const credentials = { accessKeyId: 'ASIAXXXXXXXXXXXXXXXX', secretAccessKey: 'x'.repeat(40), sessionToken: 'T'.repeat(1500) };
const bucket = 'codepipeline-us-east-1-123456789012'.padEnd(63, 'x');
// CodePipeline's artifact keys: the pipeline's name (up to 100), the artifact's name cut to 10 characters, a 7-character id.
const key = (artifact: string) => `${'p'.repeat(100)}/${artifact.slice(0, 10)}/AbCdEfG`;
const name = (i: number) => `artifact-${i}`.padEnd(100, 'n');
const signed = async (upload: boolean) =>
  Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    const at = { bucket, key: key(name(i)) };
    const options = { credentials, forcePathStyle: false };
    return (upload ? await presignUpload(at, 'arn:aws:kms:us-east-1:123456789012:key/'.padEnd(2048, 'k').slice(0, 2048), options) : await presignDownload(at, options)).url;
  }));
const pairs = (urls: string[]) => urls.slice(1).map((u, i) => `${name(i + 1)}=${u}`).join(' ');
// The document as deployed: its scripts without their comment lines (lib/document-content.ts).
const documentBytes = deployedBytes();
const within = (parameters: Record<string, string>) => {
  const given = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]]));
  // Every value passes the document's own patterns (SSM refuses the command otherwise) ...
  expect(() => resolveParameters(loadDocument(), given)).not.toThrow();
  // ... and the document with them stays within 64 KB.
  return documentBytes + parameterBytes(given);
};

describe('the build document\'s commands with five artifacts', () => {
  beforeAll(() => {
    process.env.AWS_REGION = 'ap-southeast-2';
  });

  it('fit within 64 KB with the document, for the build phase (five inputs) and the upload phase (five outputs)', async () => {
    const inputs = await signed(false);
    const outputs = await signed(true);
    expect(inputs[0].length).toBeGreaterThan(1500);
    const longest = (n: number) => 'a'.repeat(n);
    const build = within({
      Phase: 'build', JobId: longest(36), ExecutionTimeout: '86400', TaskToken: longest(4096), Command: longest(MAX_PROPERTY_LENGTH),
      WorkingDirectory: `/${longest(MAX_PROPERTY_LENGTH - 1)}`, OutputArtifactPath: longest(200), SecondaryOutputPaths: [1, 2, 3, 4].map((i) => `${name(i)}=${longest(100)}`).join(','),
      InputUrl: inputs[0], SecondaryInputUrls: pairs(inputs), EnvironmentUrl: inputs[0], EnvironmentDeleteUrl: inputs[0],
      ExecutionName: longest(80), PipelineName: longest(100), PipelineExecutionId: '0123abcd-0123-0123-0123-0123456789ab', StageName: longest(100), ActionName: longest(100),
      SourceRevision: longest(1500), ExportedVariables: 'A', CachePaths: longest(MAX_CACHE_PATHS_LENGTH), CacheUrl: inputs[0],
    });
    const upload = within({ Phase: 'upload', JobId: longest(36), ExecutionTimeout: '86400', TaskToken: longest(4096), OutputUrl: outputs[0], SecondaryOutputUrls: pairs(outputs), KmsKeyId: longest(2048), ExportsUrl: outputs[0], CacheUrl: inputs[0] });
    expect(Math.max(build, upload)).toBeLessThanOrEqual(SSM_PARAMETERS_BYTES);
    // Said for whoever grows the document next: the room left.
    console.info(`build command with the document: ${build} bytes, upload: ${upload}, of ${SSM_PARAMETERS_BYTES}`);
  });
});
