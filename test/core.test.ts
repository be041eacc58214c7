import { describe, it } from 'vitest';
import { registry } from './harness';
import './core/index';

describe('core cases (same catalogue as npm run test:xs)', () => {
  for (const c of registry) it(c.name, c.run);
});
