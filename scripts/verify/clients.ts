import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { VerifyOptions } from './args';

/** The SDK clients verify uses: the SDK's own configuration, or a local cloud's endpoints in tests. */
export interface Clients {
  readonly cloudformation: CloudFormationClient;
  readonly iam: IAMClient;
  readonly s3: S3Client;
  readonly codepipeline: CodePipelineClient;
  readonly sfn: SFNClient;
}

export function makeClients(options: VerifyOptions): Clients {
  const e = options.endpoints;
  const base = (endpoint?: string) => ({
    ...(options.region ? { region: options.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(e?.credentials ? { credentials: e.credentials } : {}),
  });
  return {
    cloudformation: new CloudFormationClient(base(e?.endpoints.cloudformation)),
    iam: new IAMClient(base(e?.endpoints.iam)),
    // A local S3 serves buckets by path; s3rver stores SDK v3's default streaming checksums corrupted.
    s3: new S3Client({ ...base(e?.endpoints.s3), ...(e?.endpoints.s3 ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}) }),
    codepipeline: new CodePipelineClient(base(e?.endpoints.codepipeline)),
    sfn: new SFNClient(base(e?.endpoints.sfn)),
  };
}

export function destroyClients(c: Clients): void {
  for (const client of Object.values(c)) (client as { destroy(): void }).destroy();
}
