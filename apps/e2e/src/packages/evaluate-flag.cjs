// node evaluate-flag.cjs <url> <project> <flag>: the SDK, loaded with require.
'use strict';
const { FlagsClient } = require('@rollgate/flags-sdk');
const { buildRuleset, evaluate } = require('@rollgate/flags-sdk/domain');

require('./evaluate-flag.core.cjs')({ FlagsClient, buildRuleset, evaluate });
