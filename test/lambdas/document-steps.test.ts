import { BUILD_STEP_ORDER, BUILD_STEPS } from '../../lambdas/shared/document';
import { loadDocument, stepFor } from '../../local/services/ssm-document';

describe('the build document\'s step names', () => {
  it('are the names of the steps in ssm-documents/run-build.yaml, one per platform', () => {
    const doc = loadDocument();
    expect(stepFor(doc, 'Linux').name).toBe(BUILD_STEPS.Linux);
    expect(stepFor(doc, 'Windows').name).toBe(BUILD_STEPS.Windows);
    // Every step of the document is one the result collector asks for, and no other.
    expect(doc.mainSteps.map((s) => s.name).sort()).toEqual([...BUILD_STEP_ORDER].sort());
  });
});
