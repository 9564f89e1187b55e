/**
 * Who is calling, locally. On AWS every request is signed by a principal; here each role of the
 * synthesized stack (each function's, the state machine's, the build instance's) gets credentials
 * whose access key id names the role, and the local services' gate maps the key back to the role's
 * policies. A key that names no role of the stack is refused, as AWS refuses unknown credentials.
 */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_PARTITION = 'aws';

const PREFIX = 'LOCAL';

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Credentials that sign as the role named `roleName` (the role's logical id in the template). */
export function credentialsFor(roleName: string): LocalCredentials {
  if (!/^[A-Za-z0-9]+$/.test(roleName)) throw new Error(`credentialsFor: role name must be alphanumeric, got ${JSON.stringify(roleName)}`);
  return { accessKeyId: `${PREFIX}${roleName}`, secretAccessKey: `local-secret-${roleName}`, sessionToken: `local-session-${roleName}` };
}

/** The role a request's access key id names, or null for a key that is not a local role's. */
export function roleOfAccessKey(accessKeyId: string): string | null {
  return accessKeyId.startsWith(PREFIX) && accessKeyId.length > PREFIX.length ? accessKeyId.slice(PREFIX.length) : null;
}
