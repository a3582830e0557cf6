import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The Lambda functions of Cairn; each is `functions/<name>/handler.ts` in the Cairn source tree. */
export const cairnFunctionNames = [
  'ingest',
  'api',
  'step',
  'feedback',
  'authorizer',
  'lifecycle',
  'segments',
] as const;
export type CairnFunctionName = (typeof cairnFunctionNames)[number];

/** The Cairn source tree this file belongs to (infra/aws/parts → ../../..). */
export const cairnCodeRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface CairnFunctionOptions {
  /** Seconds. */
  readonly timeout: number;
  /** MB. @default 512 */
  readonly memorySize?: number;
  /** Variables of this function only; the shared ones come from `shareEnvironment`. */
  readonly environment?: Record<string, string>;
  /** Shell commands run in the Cairn source tree after bundling, to add files next to the handler. */
  readonly afterBundling?: (outputDir: string) => string[];
}

/**
 * Builds every Cairn Lambda the same way (own log group, own role that may write only it, an ESM
 * bundle by the local esbuild) and gives all of them the shared configuration once every part exists.
 */
export class CairnFunctions {
  private readonly created: NodejsFunction[] = [];

  constructor(
    private readonly settings: {
      readonly codeRoot: string;
      readonly logRetention: logs.RetentionDays;
      readonly tracing: boolean;
    },
  ) {}

  /** `functions/<name>/handler.ts` as a Lambda in `scope`, with construct ids `<Name>Logs|Role|Function`. */
  create(scope: Construct, name: string, options: CairnFunctionOptions): NodejsFunction {
    const { codeRoot, logRetention, tracing } = this.settings;
    const logGroup = new logs.LogGroup(scope, `${pascal(name)}Logs`, {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role that may write only its own log group (instead of the AWS managed basic execution policy).
    const role = new iam.Role(scope, `${pascal(name)}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Cairn ${name} Lambda`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const fn = new NodejsFunction(scope, `${pascal(name)}Function`, {
      description: `Cairn ${name}`,
      entry: join(codeRoot, 'functions', name, 'handler.ts'),
      handler: 'handler',
      projectRoot: codeRoot,
      depsLockFilePath: join(codeRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memorySize ?? 512,
      timeout: Duration.seconds(options.timeout),
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
      role,
      logGroup,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        // Error classes set `name` from their constructor; keep names so error types survive minifying.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK v3 clients Cairn uses, tree-shaken and pinned, instead of the runtime's copy.
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies inside an ESM bundle still call require().
        banner:
          "import { createRequire as __cairnRequire } from 'node:module'; const require = __cairnRequire(import.meta.url);",
        tsconfig: join(codeRoot, 'tsconfig.json'),
        logLevel: LogLevel.WARNING,
        ...(options.afterBundling && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_inputDir: string, outputDir: string) => [
              `cd "${codeRoot}"`,
              ...options.afterBundling!(outputDir),
            ],
          },
        }),
      },
    });
    this.created.push(fn);
    return fn;
  }

  /** Adds the configuration every Cairn Lambda reads (table names, bus, email, journeys) to all created so far. */
  shareEnvironment(environment: Record<string, string>): void {
    for (const fn of this.created) {
      for (const [key, value] of Object.entries(environment)) fn.addEnvironment(key, value);
    }
  }
}

/** Lets `fn` pass `role` to one AWS service and no other (`iam:PassedToService`). */
export function allowPassRole(fn: lambda.IFunction, sid: string, role: iam.IRole, service: string): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['iam:PassRole'],
      resources: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': service } },
    }),
  );
}

export function pascal(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
