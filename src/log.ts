import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Warta never passes secrets to the logger; the redaction
 * list is a second line of defence for fields that could carry one by mistake.
 */
export function createLogger(level: string, destination: pino.DestinationStream = logDestination(1)): Logger {
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

/** Bytes of log lines gathered before one write: under load about twenty request lines share a system call. */
const BATCH_BYTES = 4096;
/** A quiet server's lines wait at most this long for the batch to fill. */
const BATCH_WAIT_MS = 250;
const destinations = new Map<number, pino.DestinationStream>();

/**
 * Standard output (1) or error (2), written asynchronously in batches, one per
 * process and descriptor. The request log must not block the event loop on every
 * line (a synchronous write per request, or Node's stream machinery for
 * process.stdout, costs more than some token requests); pino flushes what is
 * buffered, synchronously, when the process exits, so a crash or `process.exit`
 * loses no line. Only SIGKILL can drop the last BATCH_WAIT_MS of lines.
 */
export function logDestination(fd: 1 | 2): pino.DestinationStream {
  let destination = destinations.get(fd);
  if (!destination) {
    destination = pino.destination({ dest: fd, sync: false, minLength: BATCH_BYTES, periodicFlush: BATCH_WAIT_MS });
    destinations.set(fd, destination);
  }
  return destination;
}
