// The model of an existing .system file, as every command that reads one needs it: parsed in the
// format of the target release (the SDK's VERSION, or --microkit), with the kernel's facts when
// an SDK is there, and its prefill files found on the search path (the file's own directory
// first, then --search-path, as the Microkit tool is usually run from beside the file).
import path from 'node:path';
import type { Board } from '../boards.js';
import type { Diagnostic } from '../diagnostics/index.js';
import type { MicrokitRelease } from '../releases.js';
import type { SystemModel } from '../model/index.js';
import { parseSystemXml, type SystemDialect } from './system-xml.js';
import { kernelConfig, microkitRelease } from '../model/sdk.js';
import { checkConfig, type MicrokitConfig } from '../model/target.js';
import { resolvePrefills } from './prefill.js';

export interface XmlModelOptions {
  board: Board | undefined;
  microkit?: MicrokitRelease | undefined;
  config?: MicrokitConfig | undefined;
  dialect?: SystemDialect | undefined;
  searchPaths?: readonly string[] | undefined;
  sdk?: string | undefined;
}

/** The parsed model (in `release`'s format), its parse errors, and the release, also when the file could not be read as a system. */
export function xmlModel(text: string, file: string, options: XmlModelOptions): { model: SystemModel | undefined; diagnostics: Diagnostic[]; release: MicrokitRelease } {
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  const release = microkitRelease(sdk, options.microkit);
  const config = options.config ?? 'debug';
  checkConfig(release, config, options.board);
  const parsed = parseSystemXml(text, file, options.board, { dialect: options.dialect ?? 'microkit', release });
  const model = parsed.model;
  if (model) {
    model.config = config;
    if (options.board) model.kernel = kernelConfig(sdk, options.board.microkitBoard, config);
    resolvePrefills(model, [path.dirname(file), ...(options.searchPaths ?? [])]);
  }
  return { ...parsed, release };
}
