import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsObject, IsString, Length, Matches } from 'class-validator';
import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';
import { OptionalField, RequireScopes } from '@rollgate/platform';
import { ApiDocuments } from './api-documents';
import { ApiGate } from './api-gate';

export class CompatCheckDto {
  @ApiProperty({ example: 'orders', description: 'The service the build belongs to' })
  @IsString()
  @Matches(new RegExp(SERVICE_NAME_PATTERN), {
    message: 'must be a lowercase DNS label such as "orders"',
  })
  service!: string;

  @ApiPropertyOptional({ example: 'v2.0', description: 'Version label used in the findings' })
  @OptionalField()
  @IsString()
  @Length(1, 100)
  version?: string;

  @ApiPropertyOptional({ type: Object, description: 'OpenAPI 3 document the build provides' })
  @OptionalField()
  @IsObject()
  provides?: Record<string, unknown>;

  @ApiPropertyOptional({ type: Object, description: 'Consumer contract or Pact file of the build' })
  @OptionalField()
  @IsObject()
  consumes?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: ['refuse', 'hold'] })
  @OptionalField()
  @IsIn(['refuse', 'hold'])
  apiPolicy?: 'refuse' | 'hold';
}

/** The gate's question without a release (for CI): would this build break a live one? */
@ApiTags('api-compat')
@Controller()
export class CompatController {
  constructor(
    private readonly documents: ApiDocuments,
    private readonly gate: ApiGate,
  ) {}

  @Post('compat/check')
  @HttpCode(200)
  @RequireScopes('read')
  @ApiOperation({
    summary: 'Check API documents against the live fleet without releasing',
    description:
      'Answers {service, version, compatible, verdict, findings, notes}; stores nothing. 400 names the field of a bad document.',
  })
  async check(@Body() body: CompatCheckDto) {
    const version = body.version ?? 'new';
    const provides =
      body.provides === undefined
        ? null
        : (await this.documents.parseOpenApi(body.provides, 'provides')).provides!;
    const consumes =
      body.consumes === undefined
        ? null
        : this.documents.parseConsumerContract(body.consumes, 'consumes').consumes!;
    const answer = await this.gate.checkRelease(body.service, version, { provides, consumes });
    return {
      service: body.service,
      version,
      compatible: answer.verdict !== 'breaking',
      ...answer,
    };
  }

  @Get('api-documents/:digest')
  @ApiOperation({ summary: 'A stored API document, as the gate compares it' })
  async document(@Param('digest') digest: string) {
    const document = await this.documents.get(digest);
    if (!document) throw new NotFoundException(`no API document ${digest}`);
    return document;
  }
}
