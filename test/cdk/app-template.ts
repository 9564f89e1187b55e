/**
 * The app's template with what changes on every build taken out, so two templates compare by what they deploy:
 * asset hashes (they follow the Lambda code), the construct paths and asset folders of resource metadata, and the
 * CDKMetadata resource (a record of which construct classes were used, not something deployed).
 */
export function normalizeTemplate(template: Record<string, unknown>): unknown {
  const resources = Object.fromEntries(
    Object.entries(template.Resources as Record<string, Record<string, unknown>>)
      .filter(([, r]) => r.Type !== 'AWS::CDK::Metadata')
      .map(([id, r]) => {
        const { Metadata, ...rest } = r;
        const kept = Object.entries((Metadata ?? {}) as Record<string, unknown>).filter(([k]) => !k.startsWith('aws:cdk:path') && !k.startsWith('aws:asset:'));
        return [id, kept.length ? { ...rest, Metadata: Object.fromEntries(kept) } : rest];
      }),
  );
  const conditions = Object.fromEntries(Object.entries((template.Conditions ?? {}) as Record<string, unknown>).filter(([k]) => k !== 'CDKMetadataAvailable'));
  const normalized = { ...template, Resources: resources, Conditions: conditions };
  return JSON.parse(JSON.stringify(normalized).replace(/\b[0-9a-f]{64}\b/g, '<asset-hash>')) as unknown;
}
