import type { LocalStack } from '../template/stack';
import { AwsError } from './aws-error';
import { serveQueryProtocol, xmlEscape, type LocalServer } from './http';

/**
 * CloudFormation, locally, as far as a user's tools read a deployed stack: DescribeStacks, with the
 * stack's outputs resolved from the synthesized template as the local deployment resolves
 * everything else (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
 * A stack that does not exist is a ValidationError, "Stack with id NAME does not exist", as on AWS.
 */

const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

interface TemplateOutput {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Export?: { Name: unknown };
}

export class LocalCloudFormation {
  private server?: LocalServer;
  private readonly created = new Date();

  constructor(private readonly stack: LocalStack) {}

  async start(): Promise<string> {
    this.server = await serveQueryProtocol({ DescribeStacks: (p) => this.describeStacks(p) }, 'CloudFormation', 'query');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  /** The stack's id: arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID (a fixed UUID here). */
  get stackId(): string {
    return `arn:${this.stack.partition}:cloudformation:${this.stack.region}:${this.stack.account}:stack/${this.stack.stackName}/00000000-0000-4000-8000-000000000000`;
  }

  /** The outputs, resolved. */
  outputs(): { key: string; value: string; description?: string; exportName?: string }[] {
    const outputs = (this.stack.template as { Outputs?: Record<string, TemplateOutput> }).Outputs ?? {};
    return Object.entries(outputs).map(([key, o]) => ({
      key,
      value: String(this.stack.resolve(o.Value)),
      ...(o.Description ? { description: o.Description } : {}),
      ...(o.Export ? { exportName: String(this.stack.resolve(o.Export.Name)) } : {}),
    }));
  }

  private describeStacks(p: URLSearchParams): string {
    const name = p.get('StackName');
    // StackName takes the name or the stack id.
    if (name !== null && name !== this.stack.stackName && name !== this.stackId) throw new AwsError('ValidationError', `Stack with id ${name} does not exist`);
    const outputs = this.outputs()
      .map(
        (o) =>
          `<member><OutputKey>${xmlEscape(o.key)}</OutputKey><OutputValue>${xmlEscape(o.value)}</OutputValue>${o.description ? `<Description>${xmlEscape(o.description)}</Description>` : ''}${o.exportName ? `<ExportName>${xmlEscape(o.exportName)}</ExportName>` : ''}</member>`,
      )
      .join('');
    const stack = `<member><StackName>${xmlEscape(this.stack.stackName)}</StackName><StackId>${this.stackId}</StackId><CreationTime>${this.created.toISOString()}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member>`;
    return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks>${stack}</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></DescribeStacksResponse>`;
  }
}
