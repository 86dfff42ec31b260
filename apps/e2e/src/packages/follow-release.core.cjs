// An event consumer in another tool, written only against the published @rollgate/contracts and
// the cloudevents SDK: follows one release on Kafka from its request to its outcome and prints one
// JSON line per event. The CommonJS and ESM entry points hand it the packages they loaded.
// Arguments: <releaseId> <groupId>, with KAFKA_BROKERS in the environment.
'use strict';

const OUTCOMES = ['ReleaseSucceeded', 'ReleaseRolledBack', 'ReleaseAborted'];
const FOLLOWED = [
  'ReleaseRequested',
  'ReleaseStepStarted',
  'ReleaseStepCompleted',
  'ReleasePaused',
  'ReleaseResumed',
  'ReleasePromoted',
  'ReleaseRollbackStarted',
  ...OUTCOMES,
];
const ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'dataschema',
  'datacontenttype',
  'correlationid',
  'causationid',
];

async function followRelease({ Kafka, logLevel, subscribe, toCloudEvent }) {
  const [releaseId, groupId] = process.argv.slice(2);
  const brokers = process.env.KAFKA_BROKERS.split(',');
  const kafka = new Kafka({ clientId: 'external-tool', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const follow = (event, record) => {
    if (event.correlationId !== releaseId) return;
    const cloudEvent = toCloudEvent({
      key: record.message.key.toString(),
      value: record.message.value,
      headers: record.headers,
    });
    try {
      cloudEvent.validate();
    } catch (error) {
      console.error(`not a valid CloudEvent 1.0: ${JSON.stringify(error.errors ?? error.message)}`);
      process.exit(1);
    }
    const { id, type, version, occurredAt, correlationId, causationId, key } = event;
    console.log(
      JSON.stringify({
        envelope: { id, type, version, occurredAt, correlationId, causationId, key },
        cloudEvent: Object.fromEntries(ATTRIBUTES.map((name) => [name, cloudEvent[name]])),
        dataIsTheEnvelope: cloudEvent.data.id === id && cloudEvent.data.key === key,
        topic: record.topic,
      }),
    );
    if (OUTCOMES.includes(type)) finish();
  };
  await subscribe({
    consumer,
    handlers: Object.fromEntries(FOLLOWED.map((type) => [type, follow])),
    // A record this package cannot read is logged and skipped: this tool only follows releases.
    onInvalid: (error) => console.error(`skipped ${error.message}`),
  });
  await finished;
  await consumer.disconnect();
}

module.exports = (packages) =>
  followRelease(packages).catch((error) => {
    console.error(error);
    process.exit(1);
  });
