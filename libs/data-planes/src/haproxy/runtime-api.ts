import net from 'node:net';
import { parseServerCounts, type ServerCounts } from './traffic-counters';

/** One row of `show servers state <backend>`, the fields the adapter reads back. */
export interface ServerState {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  operationalState: number;
  /** Bit flags: maintenance (forced, inherited, DNS) and drain. */
  administrativeState: number;
  weight: number;
}

// From HAProxy's server admin flags: FMAINT|IMAINT|RMAINT (maintenance) and FDRAIN|IDRAIN (drain).
const MAINTENANCE_FLAGS = 0x23;
const DRAIN_FLAGS = 0x18;
const RUNNING = 2;

export function isInMaintenance(state: ServerState): boolean {
  return (state.administrativeState & MAINTENANCE_FLAGS) !== 0;
}

/** Takes new requests: running, not in maintenance, not draining. */
export function isServing(state: ServerState): boolean {
  return (
    state.operationalState === RUNNING &&
    (state.administrativeState & (MAINTENANCE_FLAGS | DRAIN_FLAGS)) === 0
  );
}

/** Parses `show servers state` output (format version 1: a `# field names` line, then rows). */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  const header = lines.find((line) => line.startsWith('# '));
  if (!header)
    throw new Error(`unexpected 'show servers state' answer: ${text.trim() || '(empty)'}`);
  const fields = header.slice(2).trim().split(/\s+/);
  const column = (name: string) => {
    const index = fields.indexOf(name);
    if (index === -1) throw new Error(`'show servers state' has no ${name} column`);
    return index;
  };
  const at = {
    backend: column('be_name'),
    name: column('srv_name'),
    address: column('srv_addr'),
    port: column('srv_port'),
    operational: column('srv_op_state'),
    administrative: column('srv_admin_state'),
    weight: column('srv_uweight'),
  };
  return lines
    .filter((line) => !line.startsWith('#') && /^\d+\s/.test(line) && line.split(/\s+/).length > 2)
    .map((line) => {
      const values = line.trim().split(/\s+/);
      return {
        backend: values[at.backend],
        name: values[at.name],
        address: values[at.address],
        port: Number(values[at.port]),
        operationalState: Number(values[at.operational]),
        administrativeState: Number(values[at.administrative]),
        weight: Number(values[at.weight]),
      };
    });
}

/** A failure to talk to the Runtime API at all (socket missing, refused, silent). */
export class RuntimeApiUnreachableError extends Error {
  override readonly name = 'RuntimeApiUnreachableError';
}

/**
 * Client for HAProxy's Runtime API over its unix socket, one connection per call (HAProxy answers
 * a non-interactive command and closes the connection).
 */
export class HaproxyRuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends one command line and resolves with HAProxy's whole answer. */
  send(commandLine: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.createConnection(this.socketPath);
      socket.setTimeout(this.timeoutMs, () => {
        socket.destroy();
        reject(
          new RuntimeApiUnreachableError(
            `runtime API at ${this.socketPath} did not answer within ${this.timeoutMs} ms`,
          ),
        );
      });
      socket.on('connect', () => socket.write(`${commandLine}\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new RuntimeApiUnreachableError(
            `runtime API unreachable at ${this.socketPath} (${error.code ?? error.message})`,
          ),
        ),
      );
    });
  }

  /**
   * Runs commands that print nothing on success (`set weight`, `set server ... state`) in one
   * round trip, so HAProxy applies them back to back; any printed text is an error.
   */
  async runSilent(commands: string[]): Promise<void> {
    if (commands.length === 0) return;
    const answer = (await this.send(commands.join(';'))).trim();
    if (answer.length > 0) throw new Error(`HAProxy refused a command: ${answer}`);
  }

  /** Lifetime response and error counts of each server slot of a backend (`show stat`). */
  async serverCounts(backend: string): Promise<Map<string, ServerCounts>> {
    const answer = await this.send(`show stat ${backend} 4 -1`);
    return parseServerCounts(answer, backend);
  }

  async serversState(backend: string): Promise<ServerState[]> {
    const answer = await this.send(`show servers state ${backend}`);
    if (answer.includes("Can't find backend")) throw new Error(`HAProxy has no backend ${backend}`);
    return parseServersState(answer);
  }
}
