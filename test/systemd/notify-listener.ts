// A datagram listener standing in for systemd's notify socket: collects every message it receives.
import { spawn, type ChildProcess } from 'node:child_process';

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("up", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`;

export interface NotifyListener {
  /** Messages so far, assignments joined by '|'. */
  readonly received: string[];
  /** Waits until a message satisfies pred (or about 2 s pass). */
  waitFor(pred: (m: string) => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function listenNotify(socketPath: string): Promise<NotifyListener> {
  const received: string[] = [];
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n').filter(Boolean)) {
        if (line === 'up') resolve();
        else received.push(line);
      }
    });
  });
  return {
    received,
    async waitFor(pred) {
      for (let i = 0; i < 100 && !received.some(pred); i++) await new Promise((r) => setTimeout(r, 20));
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
