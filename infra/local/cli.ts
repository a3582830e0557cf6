/**
 * `npm start [--memory]`: the local stack in the foreground. Checks Java, starts everything,
 * publishes the example journeys, prints the URLs, keys and ready-to-paste curl commands, and stops
 * cleanly on Ctrl-C / SIGTERM (servers closed, deliveries drained, data flushed, DynamoDB Local
 * stopped).
 */
import { assertJavaAvailable, JavaMissingError } from './dynamodb-local.js';
import { publishExampleJourneys } from './examples.js';
import { launcherPids, watchLaunchers } from './launcher.js';
import { type LocalStack, startLocalStack } from './stack.js';

const usage = `Usage: npm start [--memory] [--data-dir <dir>]

  --memory          keep nothing on disk (default: data persists under .cairn/)
  --data-dir <dir>  where data persists (default .cairn)

Environment: CAIRN_HTTP_PORT (3000), CAIRN_EDGE_PORT (4566), CAIRN_WRITE_KEY (dev-write-key),
CAIRN_API_TOKEN (dev-token), CAIRN_TIME_SCALE (1 = real time; 60 = a minute per second),
CAIRN_LOG_LEVEL (info).`;

interface CliOptions {
  memory: boolean;
  dataDir?: string;
}

function parseArgs(args: string[]): CliOptions {
  // `npm start --memory` (without `--`) reaches us as npm config in the environment, not as an argument.
  const options: CliOptions = { memory: process.env.npm_config_memory === 'true' };
  if (process.env.npm_config_data_dir) options.dataDir = process.env.npm_config_data_dir;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--memory') options.memory = true;
    else if (arg === '--data-dir' && args[i + 1]) options.dataDir = args[++i];
    else if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    } else {
      console.error(`Unknown option ${arg}\n\n${usage}`);
      process.exit(2);
    }
  }
  return options;
}

const launched = Date.now();
const say = (line: string) =>
  process.stderr.write(`cairn │ ${((Date.now() - launched) / 1000).toFixed(1).padStart(5)}s  ${line}\n`);

function banner(stack: LocalStack, published: string[], seconds: string): string {
  const http = stack.httpUrl.replace('127.0.0.1', 'localhost');
  const edge = stack.edgeUrl.replace('127.0.0.1', 'localhost');
  const { CAIRN_WRITE_KEY: writeKey, CAIRN_API_TOKEN: token } = stack.env;
  const identify = JSON.stringify({
    userId: 'user-1',
    traits: { email: 'ada@example.com', firstName: 'Ada' },
  });
  const track = JSON.stringify({ userId: 'user-1', event: 'Signed Up', properties: { plan: 'pro' } });
  const rows = [
    ['HTTP API', http, 'GET /health, /profiles, /journeys, /local/outbox, /local/clock'],
    ['AWS edge', edge, 'AWS_ENDPOINT_URL for any AWS SDK: DynamoDB, EventBridge, Step Functions, SES v2'],
    ['write key', writeKey ?? '', 'HTTP Basic user name for /v1/*'],
    ['API token', token ?? '', 'Authorization: Bearer <token> for the marketer API'],
    ['journeys', published.length ? published.join(', ') : '(none published)', ''],
  ];
  const width = Math.max(...rows.map((row) => row[1]!.length)) + 2;
  const table = rows
    .map(([name, value, note]) => `  ${name!.padEnd(11)} ${value!.padEnd(width)} ${note}`.trimEnd())
    .join('\n');
  return `
Cairn is running (ready in ${seconds} s)${stack.dataDir ? `, data in ${stack.dataDir}` : ', in memory'}

${table}

Tell Cairn who user-1 is (identify; the journeys email this address):
  curl -u ${writeKey}: -H 'content-type: application/json' -d '${identify}' ${http}/v1/identify

Send an event (track; "Signed Up" enters the welcome journey):
  curl -u ${writeKey}: -H 'content-type: application/json' \\
    -d '${track}' \\
    ${http}/v1/track

Read the profile back:
  curl -H 'authorization: Bearer ${token}' '${http}/profiles?userId=user-1'

Captured emails:  curl ${http}/local/outbox
Move time:        curl -X POST -d '{"advance":"P1D"}' ${http}/local/clock

Ctrl-C stops everything.
`;
}

async function main(): Promise<void> {
  // The SDK's notice that future versions need Node 22 is not actionable while running the stack.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  try {
    const java = assertJavaAvailable();
    say(`Java ${java || '(version unknown)'} found`);
  } catch (error) {
    if (error instanceof JavaMissingError) {
      console.error(`\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let stack: LocalStack | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(130);
    }
    say(`${signal}: stopping (draining deliveries, flushing data)…`);
    stopping = (stack?.stop() ?? Promise.resolve()).then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));
  // SIGTERM to npm reaches only its shell: when npm (or tsx between us) is gone, stop as if signalled.
  watchLaunchers(launcherPids(), (pid) => shutdown(`the process that started this one (${pid}) is gone`));

  // /health says ok only once the example journeys are published: a script that polls it and then
  // pastes the walk-through must find them.
  stack = await startLocalStack({
    memory: options.memory,
    dataDir: options.dataDir,
    onProgress: say,
    holdHealth: true,
  });
  if (stopping) return;
  say('publishing example journeys');
  const outcome = await publishExampleJourneys({
    httpUrl: stack.httpUrl,
    apiToken: stack.env.CAIRN_API_TOKEN ?? 'dev-token',
  });
  for (const failure of outcome.failed) say(`could not publish ${failure.id}: ${failure.reason}`);
  stack.announceReady();
  process.stdout.write(banner(stack, outcome.published, ((Date.now() - started) / 1000).toFixed(1)));
}

main().catch((error: unknown) => {
  console.error(`\nCairn could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
