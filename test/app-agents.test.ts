// Each client connection's agent for an app process is let go when the client leaves or moves to
// a new process: a long-lived app process does not collect one per client connection it served.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { agentFor } from '../src/app/proxy.js';
import type { AppProcess } from '../src/app/process.js';

const fakeProcess = (): AppProcess => ({ agents: new Set(), channel: { open: () => undefined } }) as unknown as AppProcess;

const agents = suite('app connection agents');

agents('a client that leaves takes its agent with it', () => {
  const proc = fakeProcess();
  for (let i = 0; i < 100; i++) {
    const client = new EventEmitter() as unknown as Socket;
    const agent = agentFor(client, proc);
    assert.is(agentFor(client, proc), agent, 'one agent per client connection');
    client.emit('close');
  }
  assert.is(proc.agents.size, 0);
});

agents('a client moving to a new process after a reload lets go of the old one', () => {
  const before = fakeProcess();
  const after = fakeProcess();
  const client = new EventEmitter() as unknown as Socket;
  agentFor(client, before);
  agentFor(client, after);
  assert.is(before.agents.size, 0);
  assert.is(after.agents.size, 1);
  client.emit('close');
  assert.is(after.agents.size, 0);
  assert.is((client as unknown as EventEmitter).listenerCount('close'), 0, 'one close listener per client, gone after close');
});

agents.run();
