// A service in another tool evaluating a flag with the published @rollgate/flags-sdk, and the same
// answer from its bundled domain engine. Prints one JSON line.
// Arguments: <url> <project> <flag>, with ROLLGATE_TOKEN in the environment.
'use strict';

async function evaluateFlag({ FlagsClient, buildRuleset, evaluate }) {
  const [url, project, flag] = process.argv.slice(2);
  const token = process.env.ROLLGATE_TOKEN;
  const client = new FlagsClient({ url, environment: 'production', project, token });
  await client.start();
  const norway = { userId: 'u-1', country: 'NO' };
  const sweden = { userId: 'u-2', country: 'SE' };
  const built = buildRuleset(client.definition);
  console.log(
    JSON.stringify({
      rulesetVersion: client.version,
      norway: client.isEnabled(flag, norway),
      sweden: client.isEnabled(flag, sweden),
      details: client.getBooleanDetails(flag, false, norway),
      missing: client.getBooleanDetails('no-such-flag', false, norway),
      engine: built.ok && evaluate(built.ruleset, flag, 'production', norway).enabled,
    }),
  );
  await client.close();
}

module.exports = (packages) =>
  evaluateFlag(packages).catch((error) => {
    console.error(error);
    process.exit(1);
  });
