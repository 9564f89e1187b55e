import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { documentContent } from './document-content';

export const DOCUMENT_FILE = path.join(__dirname, '..', 'ssm-documents', 'run-build.yaml');

/** The SSM Command document that runs each build phase on the instance, loaded from its file. */
export class BuildDocument extends Construct {
  readonly document: ssm.CfnDocument;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.document = new ssm.CfnDocument(this, 'Resource', {
      documentType: 'Command',
      documentFormat: 'YAML',
      // Without the scripts' comment lines (lib/document-content.ts): they would take the room of the parameters.
      content: documentContent(fs.readFileSync(DOCUMENT_FILE, 'utf8')) as Record<string, unknown>,
      // A changed document becomes a new version, made the default ("When you specify NewVersion, the default version of
      // the document is changed to the newly created version":
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-document.html), before the
      // state machine that names it is updated: a parameter added to the document needs a default, so that commands of
      // executions started on the previous definition stay valid.
      updateMethod: 'NewVersion',
    });
  }

  get documentName(): string {
    return this.document.ref;
  }

  get documentArn(): string {
    return Stack.of(this).formatArn({ service: 'ssm', resource: 'document', resourceName: this.document.ref });
  }
}
