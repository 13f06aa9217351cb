import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Warta never passes secrets to the logger; the redaction
 * list is a second line of defence for fields that could carry one by mistake.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'warta' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        // `code` is redacted only where it is a value a request carried (an OAuth authorization code, a TOTP code),
        // never at the top level or on an error: there it is Warta's error code, which operators need to see
        // (a burst of invalid_credentials is an attack in progress).
        paths: [
          ...['authorization', 'cookie', 'password', 'token', 'secret', 'client_secret', 'refresh_token', 'access_token', 'id_token', 'code_verifier', 'assertion', 'grant', 'recovery_code'].flatMap((field) => [field, `*.${field}`]),
          ...['query', 'params', 'body', 'form', 'attempt'].flatMap((carrier) => [`${carrier}.code`, `*.${carrier}.code`]),
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
