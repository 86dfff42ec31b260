import { version } from '../package.json';
import { CONTRACTS_VERSION } from './version';

it('CONTRACTS_VERSION is the version in package.json', () => {
  expect(CONTRACTS_VERSION).toBe(version);
});
