import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** All Secrets Manager calls the Lambdas make: reading the secrets a build's EnvironmentVariables name. */
const client = new SecretsManagerClient({});

/**
 * A secret's text: GetSecretValue by name or ARN, at a version stage or version id when given (AWSCURRENT otherwise:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html). A binary secret has no
 * SecretString: null. Throws the SDK's error (ResourceNotFoundException, AccessDeniedException, …).
 */
export async function secretText(secretId: string, versionStage: string, versionId: string): Promise<string | null> {
  const out = await client.send(
    new GetSecretValueCommand({ SecretId: secretId, ...(versionStage ? { VersionStage: versionStage } : {}), ...(versionId ? { VersionId: versionId } : {}) }),
  );
  return out.SecretString ?? null;
}
