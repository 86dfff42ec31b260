import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  parseCut,
  replayReport,
  ReplayCutError,
  subjectOf,
  type ReplayCut,
  type ReplayReport,
} from '@rollgate/audit';
import { readTopics, type MalformedEventError } from '@rollgate/event-log';
import { DomainError } from '@rollgate/event-sourcing';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';

/** A message the replay left out, so a reader knows the story has a gap and where. */
export interface SkippedEvent {
  topic: string;
  partition: number;
  offset: number;
  reason: string;
}

export type ReleaseAuditResponse = Omit<ReplayReport, 'subject'> & {
  releaseId: string;
  skipped: SkippedEvent[];
};

/**
 * Time travel over the log: a release rebuilt from every event that belongs to it, at the end or
 * at an instant. Reads the log itself, not the read model, so it also shows what the log says.
 */
@ApiTags('releases')
@Controller('releases')
export class ReleaseAuditController {
  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

  @Get(':id/timeline')
  @ApiOperation({
    summary:
      'Every event of a release (release, routing, analysis), in order, with what it changed and why',
  })
  @ApiQuery({
    name: 'at',
    required: false,
    description: 'ISO-8601 instant: the timeline up to then',
  })
  @ApiOkResponse({ description: 'events, the timeline and any malformed messages skipped' })
  async timeline(@Param('id') id: string, @Query('at') at?: string) {
    const { timeline, events, skipped, cut } = await this.replay(id, at);
    return { releaseId: id, cut, events, timeline, skipped };
  }

  @Get(':id/state')
  @ApiOperation({
    summary: 'A release as it was at an instant (default: now), rebuilt from the log',
    description:
      '`view` has the shape of GET /releases/:id; `state` adds the route weights and the analysis intervals and verdicts so far.',
  })
  @ApiQuery({
    name: 'at',
    required: false,
    description: 'ISO-8601 instant, e.g. 2026-01-31T12:00:00Z',
  })
  async state(@Param('id') id: string, @Query('at') at?: string) {
    const { view, state, events, skipped, cut } = await this.replay(id, at);
    return { releaseId: id, cut, events, view, state, skipped };
  }

  private async replay(id: string, at: string | undefined): Promise<ReleaseAuditResponse> {
    let cut: ReplayCut;
    try {
      cut = parseCut(at !== undefined ? { at } : {});
    } catch (error) {
      if (!(error instanceof ReplayCutError)) throw error;
      throw new DomainError('invalid', error.message, { field: 'at' });
    }
    const ref = { kind: 'release' as const, id };
    const subject = subjectOf(ref);
    const skipped: SkippedEvent[] = [];
    const events = await readTopics(this.runtime.log, {
      topics: subject.topics,
      keep: (event) => subject.belongs(event),
      samePartitionsAsFirstTopic: subject.keyedAlike === true,
      // A malformed message cannot be attributed to a release: it is listed, not guessed at.
      onMalformed: 'skip',
      reportMalformed: (error: MalformedEventError) =>
        skipped.push({ ...error.position, reason: error.reason }),
    });
    const report = replayReport(ref, events, cut);
    if (report.events.total === 0) {
      throw new DomainError('not-found', `release ${id} has no events in the log`);
    }
    return {
      releaseId: id,
      cut: report.cut,
      events: report.events,
      view: report.view,
      state: report.state,
      timeline: report.timeline,
      skipped,
    };
  }
}
