import { describe } from 'node:test';
import { MemoryWriteKeyStore } from '../../../shared/catalog/memory.js';
import { writeKeyStoreContract } from '../../support/write-keys.js';

describe('write keys (in-memory store)', () => {
  writeKeyStoreContract(() => new MemoryWriteKeyStore());
});
