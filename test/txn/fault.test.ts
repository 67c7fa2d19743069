// The test-only fault points: what STATE_OVERLAY_FAULT_AFTER may name, and where each one stops.
import { describe, expect, it } from 'vitest';
import { FAULT_ENV, faultAfterAction, faultAt, faultFromEnv, syncCounter } from '../../src/txn/fault.js';

describe('STATE_OVERLAY_FAULT_AFTER', () => {
  it('names an action, a directory fsync or a step of the transaction', () => {
    expect(faultFromEnv({})).toBeUndefined();
    expect(faultFromEnv({ [FAULT_ENV]: '' })).toBeUndefined();
    expect(faultFromEnv({ [FAULT_ENV]: '12' })).toEqual({ after: 12 });
    expect(faultFromEnv({ [FAULT_ENV]: 'sync:3' })).toEqual({ sync: 3 });
    expect(faultFromEnv({ [FAULT_ENV]: 'journal-removed' })).toEqual({ at: 'journal-removed' });
    expect(faultFromEnv({ [FAULT_ENV]: 'sidecars' })).toEqual({ at: 'sidecars' });
  });

  it.each(['0', '-1', 'sync:0', 'later', 'constructor'])('refuses %j as a usage error', (v) => {
    expect(() => faultFromEnv({ [FAULT_ENV]: v })).toThrow(`${FAULT_ENV}=${v}: expected an action number, sync:N or one of journal, index, sidecars, actions, state, journal-removed (test only)`);
  });

  it('stops only where it is asked to', () => {
    expect(() => faultAt('state', { at: 'index' })).not.toThrow();
    expect(() => faultAt('state', undefined)).not.toThrow();
    expect(() => faultAt('state', { at: 'state' })).toThrow(`${FAULT_ENV}=state: stopped after the result was recorded, before the journal was removed (test-only fault point)`);
    expect(() => faultAfterAction(2, 9, { after: 3 })).not.toThrow();
    expect(() => faultAfterAction(3, 9, { after: 3 })).toThrow(`${FAULT_ENV}=3: stopped after action 3 of 9 (test-only fault point)`);
    const synced = syncCounter({ sync: 2 });
    synced();
    expect(synced).toThrow(`${FAULT_ENV}=sync:2: stopped after syncfs 2 of a checkpoint, before the batch was recorded (test-only fault point)`);
  });
});
