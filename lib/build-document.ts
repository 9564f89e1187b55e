import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { parse } from 'yaml';

export const DOCUMENT_FILE = path.join(__dirname, '..', 'ssm-documents', 'run-build.yaml');

/** The SSM Command document that runs each build phase on the instance, loaded from its file. */
export class BuildDocument extends Construct {
  readonly document: ssm.CfnDocument;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.document = new ssm.CfnDocument(this, 'Resource', {
      documentType: 'Command',
      documentFormat: 'YAML',
      content: parse(fs.readFileSync(DOCUMENT_FILE, 'utf8')) as Record<string, unknown>,
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
