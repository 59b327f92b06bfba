/** jest setupFiles: every fast-check property of the run starts from the run's seed. */
import * as fc from 'fast-check';
import { testSeed } from './seed';

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: testSeed() });
