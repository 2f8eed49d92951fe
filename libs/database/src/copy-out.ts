import type { ClientBase, Connection, Submittable } from 'pg';

/**
 * `COPY … TO STDOUT` on a pg client, each CopyData message handed to `onData` as it arrives
 * (one row per message, as PostgreSQL sends it). The chunk is a view into the client's read
 * buffer, valid only during the call: copy what must outlive it. No rows are collected, so
 * memory stays flat however many rows the statement yields; the socket's own flow control
 * holds the server back while `onData` works. Resolves when the statement completes.
 * `sql` cannot carry bind parameters (COPY takes none): interpolate only validated literals.
 */
export function copyOut(client: ClientBase, sql: string, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown = null;
    const query: Submittable & Record<string, unknown> = {
      submit: (connection: Connection) => connection.query(sql),
      handleCopyData: (msg: { chunk: Buffer }) => {
        if (failure !== null) return;
        try {
          onData(msg.chunk);
        } catch (err) {
          failure = err;
        }
      },
      handleCommandComplete: () => undefined,
      handleReadyForQuery: () => settle(failure),
      handleError: (err: unknown) => {
        // The server refused or aborted the statement; ReadyForQuery follows without us.
        failure = err;
        settle(err);
      },
      // Not expected from COPY; present so a misused statement cannot crash the client.
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleEmptyQuery: () => undefined,
      handleCopyInResponse: (connection: Connection & { sendCopyFail(message: string): void }) => {
        failure = new Error('copyOut was given a COPY FROM statement');
        connection.sendCopyFail('copyOut only reads');
      },
    };
    let settled = false;
    const settle = (err: unknown) => {
      if (settled) return;
      settled = true;
      // pg wraps `callback` to clear its query_timeout timer: call it, or the timer outlives the query.
      (query.callback as ((e: unknown) => void) | undefined)?.(err);
      if (err === null) resolve();
      else reject(err);
    };
    client.query(query);
  });
}
