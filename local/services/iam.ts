import { randomBytes } from 'node:crypto';
import { AwsError } from './aws-error';
import { serveQueryProtocol, xmlEscape, type LocalServer } from './http';

/**
 * IAM roles, locally, for the tools a user runs against a deployed stack (`npm run verify` creates
 * a throwaway pipeline's role): CreateRole, GetRole, PutRolePolicy, DeleteRolePolicy, DeleteRole, on
 * the awsQuery protocol, with IAM's own errors
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html). A role with inline
 * policies cannot be deleted (DeleteConflict), as on AWS, so a clean-up must delete them first.
 */

export interface LocalRole {
  readonly roleName: string;
  readonly arn: string;
  readonly roleId: string;
  readonly path: string;
  readonly created: Date;
  readonly trustPolicy: PolicyDocument;
  readonly inlinePolicies: Map<string, PolicyDocument>;
}

interface Statement {
  Effect?: string;
  Condition?: Record<string, Record<string, string | string[]>>;
  Action?: string | string[];
  Principal?: { Service?: string | string[] } | string;
  Resource?: string | string[];
}
export interface PolicyDocument {
  Version?: string;
  Statement: Statement | Statement[];
}

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A policy document as IAM accepts it: JSON, with statements whose Effect is Allow or Deny and that
 * name actions (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html);
 * otherwise MalformedPolicyDocument.
 */
function parsePolicy(text: string, trust: boolean): PolicyDocument {
  let doc: PolicyDocument;
  try {
    doc = JSON.parse(text) as PolicyDocument;
  } catch {
    throw new AwsError('MalformedPolicyDocument', 'This policy contains invalid Json');
  }
  const statements = list(doc?.Statement);
  if (statements.length === 0) throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.');
  for (const s of statements) {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.');
    if (list(s.Action).length === 0) throw new AwsError('MalformedPolicyDocument', 'Policy statement must contain actions.');
    if (trust && !s.Principal) throw new AwsError('MalformedPolicyDocument', 'AssumeRolepolicy contains an invalid principal');
    if (!trust && list(s.Resource).length === 0) throw new AwsError('MalformedPolicyDocument', 'Policy statement must contain resources.');
  }
  return doc;
}

const response = (operation: string, result = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${NS}">${result ? `<${operation}Result>${result}</${operation}Result>` : ''}<ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></${operation}Response>`;

export class LocalIam {
  readonly roles = new Map<string, LocalRole>();
  private server?: LocalServer;

  constructor(private readonly account: string) {}

  async start(): Promise<string> {
    this.server = await serveQueryProtocol(
      {
        CreateRole: (p) => this.createRole(p),
        GetRole: (p) => response('GetRole', this.roleXml(this.get(p.get('RoleName')))),
        PutRolePolicy: (p) => this.putRolePolicy(p),
        DeleteRolePolicy: (p) => this.deleteRolePolicy(p),
        DeleteRole: (p) => this.deleteRole(p),
      },
      'IAM',
      'query',
    );
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  /**
   * Whether `service` (codepipeline.amazonaws.com) may assume the role its ARN names, on behalf of
   * this account: a service assumes a role with aws:SourceAccount set to the account it acts for
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html), so a trust statement
   * conditioned on another account does not let it in. Other conditions are not evaluated.
   */
  trusts(roleArn: string, service: string): boolean {
    const role = [...this.roles.values()].find((r) => r.arn === roleArn);
    const sourceAccountOk = (s: Statement) => {
      const wanted = s.Condition?.StringEquals?.['aws:SourceAccount'];
      return wanted === undefined || list(wanted).includes(this.account);
    };
    return (
      !!role &&
      list(role.trustPolicy.Statement).some(
        (s) => s.Effect === 'Allow' && list(s.Action).includes('sts:AssumeRole') && typeof s.Principal === 'object' && list(s.Principal.Service).includes(service) && sourceAccountOk(s),
      )
    );
  }

  private get(name: string | null): LocalRole {
    const role = this.roles.get(String(name));
    if (!role) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    return role;
  }

  private roleXml(r: LocalRole): string {
    return `<Role><Path>${xmlEscape(r.path)}</Path><RoleName>${xmlEscape(r.roleName)}</RoleName><RoleId>${r.roleId}</RoleId><Arn>${xmlEscape(r.arn)}</Arn><CreateDate>${r.created.toISOString()}</CreateDate><AssumeRolePolicyDocument>${encodeURIComponent(JSON.stringify(r.trustPolicy))}</AssumeRolePolicyDocument></Role>`;
  }

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
  private createRole(p: URLSearchParams): string {
    const roleName = p.get('RoleName')!;
    // Role names are unique case-insensitively (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names).
    if ([...this.roles.keys()].some((n) => n.toLowerCase() === roleName.toLowerCase())) throw new AwsError('EntityAlreadyExists', `Role with name ${roleName} already exists.`, 409);
    const path = p.get('Path') ?? '/';
    const role: LocalRole = {
      roleName,
      path,
      arn: `arn:aws:iam::${this.account}:role${path}${roleName}`,
      roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}`,
      created: new Date(),
      trustPolicy: parsePolicy(p.get('AssumeRolePolicyDocument')!, true),
      inlinePolicies: new Map(),
    };
    this.roles.set(roleName, role);
    return response('CreateRole', this.roleXml(role));
  }

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html */
  private putRolePolicy(p: URLSearchParams): string {
    const role = this.get(p.get('RoleName'));
    role.inlinePolicies.set(p.get('PolicyName')!, parsePolicy(p.get('PolicyDocument')!, false));
    return response('PutRolePolicy');
  }

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html */
  private deleteRolePolicy(p: URLSearchParams): string {
    const role = this.get(p.get('RoleName'));
    const name = p.get('PolicyName')!;
    if (!role.inlinePolicies.delete(name)) throw new AwsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
    return response('DeleteRolePolicy');
  }

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html: "you must first remove ... inline policies". */
  private deleteRole(p: URLSearchParams): string {
    const role = this.get(p.get('RoleName'));
    if (role.inlinePolicies.size > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    this.roles.delete(role.roleName);
    return response('DeleteRole');
  }
}
