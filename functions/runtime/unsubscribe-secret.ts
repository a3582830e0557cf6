/**
 * Where the unsubscribe links' signing secret comes from: configuration of the edge, not of the
 * domain (shared/channels/unsubscribe.ts signs and verifies with whatever secret it is given).
 */

/** The local stack's secret (`CAIRN_UNSUBSCRIBE_SECRET` unset, not in the cloud). Never used on AWS. */
export const devUnsubscribeSecret = 'cairn-dev-unsubscribe-secret';

export const defaultUnsubscribeUrl = 'http://localhost:3000/unsubscribe';

/**
 * The secret from `CAIRN_UNSUBSCRIBE_SECRET`; locally a fixed dev default. In the cloud
 * (`CAIRN_AUTH=cloud`) a missing secret is an error rather than a forgeable default.
 */
export function unsubscribeSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.CAIRN_UNSUBSCRIBE_SECRET;
  if (secret) return secret;
  if (env.CAIRN_AUTH === 'cloud') {
    throw new Error('CAIRN_UNSUBSCRIBE_SECRET (or CAIRN_UNSUBSCRIBE_SECRET_ARN) is not set');
  }
  return devUnsubscribeSecret;
}

/**
 * When `CAIRN_UNSUBSCRIBE_SECRET_ARN` names a Secrets Manager secret (AWS), a copy of `env` with
 * `CAIRN_UNSUBSCRIBE_SECRET` read from it: called once per cold start by the step and api handlers,
 * so the secret is neither in the function's configuration nor in logs. Otherwise `env` itself.
 */
export async function withUnsubscribeSecret(
  env: NodeJS.ProcessEnv,
  getSecret: (secretId: string) => Promise<string | undefined> = secretsManagerValue,
): Promise<NodeJS.ProcessEnv> {
  const secretId = env.CAIRN_UNSUBSCRIBE_SECRET_ARN;
  if (!secretId || env.CAIRN_UNSUBSCRIBE_SECRET) return env;
  const secret = await getSecret(secretId);
  if (!secret) throw new Error('the unsubscribe secret is empty');
  return { ...env, CAIRN_UNSUBSCRIBE_SECRET: secret };
}

/**
 * The secret, read on first use and kept (a failed read is tried again next time): for the api,
 * where only `/unsubscribe` needs it, so other routes never wait on or fail with Secrets Manager.
 */
export function lazyUnsubscribeSecret(
  env: NodeJS.ProcessEnv,
  getSecret?: (secretId: string) => Promise<string | undefined>,
): () => Promise<string> {
  let secret: Promise<string> | undefined;
  return () => {
    secret ??= withUnsubscribeSecret(env, getSecret)
      .then(unsubscribeSecret)
      .catch((error: unknown) => {
        secret = undefined;
        throw error;
      });
    return secret;
  };
}

async function secretsManagerValue(secretId: string): Promise<string | undefined> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const out = await new SecretsManagerClient({ maxAttempts: 3 }).send(
    new GetSecretValueCommand({ SecretId: secretId }),
  );
  return out.SecretString;
}
