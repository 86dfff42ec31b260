// node evaluate-flag.mjs <url> <project> <flag>: the SDK, loaded with import.
import { FlagsClient } from '@rollgate/flags-sdk';
import { buildRuleset, evaluate } from '@rollgate/flags-sdk/domain';
import evaluateFlag from './evaluate-flag.core.cjs';

await evaluateFlag({ FlagsClient, buildRuleset, evaluate });
