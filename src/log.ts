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
        paths: ['*.authorization', '*.cookie', '*.password', '*.token', '*.code', '*.secret', '*.client_secret', '*.refresh_token', '*.access_token', '*.id_token', '*.code_verifier', '*.assertion', 'password', 'token', 'code', 'secret'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
