/**
 * Synthesizes a Cairn stack for the infra tests: the real Lambda entries bundled with the local
 * esbuild, cdk-nag AwsSolutions as a validation plugin, into a temporary cloud assembly. Synthesis is
 * the slow part, so each test file does it once and shares the result between its tests.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CairnJourneysProps } from '../../infra/aws/cairn-journeys.js';
import { CairnStack } from '../../infra/aws/cairn-stack.js';

export const fixtureJourneys = join(import.meta.dirname, 'fixtures', 'statemachines');

export interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
  reason?: string;
  acknowledgedId?: string;
  acknowledgedAt?: string;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: Violation[];
    suppressedViolations?: Violation[];
  }[];
}

export interface Synthesized {
  stack: CairnStack;
  template: Template;
  /** The raw template, for checks the matchers cannot express (e.g. every policy statement). */
  json: {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  };
  report: ValidationReport;
  outdir: string;
  /** Set when synthesis itself failed (e.g. an unacknowledged cdk-nag error). */
  error?: Error;
}

export function synthCairn(props: Partial<CairnJourneysProps> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'cairn-synth-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': ['**'] } });
  const stack = new CairnStack(app, 'Cairn', {
    cairn: {
      emailFrom: 'Cairn <journeys@example.com>',
      journeysDir: fixtureJourneys,
      ...props,
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (caught) {
    error = caught as Error;
  }
  const reportPath = join(outdir, 'validation-report.json');
  const report = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport)
    : { pluginReports: [] };
  const templatePath = join(outdir, `${stack.artifactId}.template.json`);
  const json = JSON.parse(readFileSync(templatePath, 'utf8')) as Synthesized['json'];
  return { stack, template: Template.fromJSON(json), json, report, outdir, error };
}

/** Every resource of a type, by logical id. */
export function resourcesOf(json: Synthesized['json'], type: string) {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id in the template (after overrides, which `stack.getLogicalId` does not see). */
export function logicalIdOf(stack: CairnStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
}
