export {
  FlagsClient,
  type ChangedEvent,
  type ClientStatus,
  type FlagsClientEvents,
  type FlagsClientOptions,
  type Outcome,
  type ReadyEvent,
  type StaleEvent,
} from './client';
export {
  checkContext,
  type FlagDetails,
  type FlagErrorCode,
  type FlagValueType,
  type ResolutionReason,
} from './resolve';
export { RollgateProvider } from './openfeature-provider';
export { SseParser, type ServerSentEvent, type SseHandlers } from './sse';
