// node follow-release.cjs <releaseId> <groupId>: the consumer, loading the packages with require.
'use strict';
const { Kafka, logLevel } = require('kafkajs');
const { subscribe } = require('@rollgate/contracts');
const { Kafka: CloudEventsKafka } = require('cloudevents');

require('./follow-release.core.cjs')({
  Kafka,
  logLevel,
  subscribe,
  toCloudEvent: (message) => CloudEventsKafka.toEvent(message),
});
