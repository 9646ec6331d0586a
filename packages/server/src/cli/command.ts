import { parseArgs } from 'node:util';
import { createAdminApi, serverUrl, type AdminApi, DEFAULT_SERVER_URL } from './admin-api.js';

/**
 * The shape of the admin commands (`gatehouse <group> <command> [ARGS] [options]`): each group is a file under
 * commands/, each command declares its options once, and help, parsing, unknown-option hints and the options every
 * admin command shares (--server, --json, --help) come from that declaration.
 */

/** Bad usage: one line on stderr, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Where `--help` would help, e.g. "gatehouse keys create --help". */
    readonly helpCommand = 'gatehouse --help',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** The value's placeholder in help, e.g. NAME. */
  arg?: string;
  required?: boolean;
  help: string;
}

export interface CommandContext {
  /** The positional arguments, as declared in `args`. */
  args: string[];
  options: Record<string, any>;
  json: boolean;
  api: AdminApi;
  /** Reads all of stdin (for secrets that are never flags). */
  readStdin(): Promise<string>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Required positional arguments, e.g. ['ID']. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** A paginated listing: adds --limit, --cursor and --all. */
  paginated?: boolean;
  /** Talks to the server (adds --server; false for offline commands such as `keys generate`). */
  remote?: boolean;
  examples?: string[];
  run(context: CommandContext): Promise<void> | void;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

const SERVER_OPTION: Record<string, OptionSpec> = {
  server: { type: 'string', arg: 'URL', help: `The Gatehouse server (GATEHOUSE_URL; default ${DEFAULT_SERVER_URL})` },
};
const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: "Print the API's JSON as is (stable, machine-readable)" },
  help: { type: 'boolean', help: 'Show this help' },
};
const PAGE_OPTIONS: Record<string, OptionSpec> = {
  limit: { type: 'string', arg: 'N', help: 'At most N items on the page' },
  cursor: { type: 'string', arg: 'CURSOR', help: 'The page after this cursor (printed after a page when there are more)' },
  all: { type: 'boolean', help: 'Every page, one after the other' },
};

/** Flags that would put the admin key in shell history: refused wherever the admin key is used. */
const ADMIN_KEY_FLAGS = ['--admin-key', '--key', '--api-key', '--token'];

export function optionsOf(command: CommandSpec): Record<string, OptionSpec> {
  return {
    ...command.options,
    ...(command.paginated ? PAGE_OPTIONS : {}),
    ...(command.remote === false ? {} : SERVER_OPTION),
    ...COMMON_OPTIONS,
  };
}

export function commandHelp(group: CommandGroup, command: CommandSpec): string {
  const options = optionsOf(command);
  const required = Object.entries(options)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name} ${spec.arg ?? ''}`.trim());
  const lines = [
    `Usage: gatehouse ${group.name} ${command.name}${(command.args ?? []).map((a) => ` ${a}`).join('')}${required.map((r) => ` ${r}`).join('')} [options]`,
    '',
    command.summary,
    '',
    'Options:',
  ];
  const labels = Object.entries(options).map(([name, spec]) => [`--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`, spec] as const);
  const width = Math.max(...labels.map(([label]) => label.length)) + 2;
  for (const [label, spec] of labels) {
    lines.push(`  ${label.padEnd(width)}${spec.help}${spec.multiple ? ' (repeatable)' : ''}${spec.required ? ' (required)' : ''}`);
  }
  if (command.remote !== false) {
    lines.push('', 'Environment:', '  GATEHOUSE_ADMIN_KEY   The admin API key (required; never a flag, so it stays out of shell history)');
    lines.push(`  GATEHOUSE_URL         The server when --server is not given (default ${DEFAULT_SERVER_URL})`);
  }
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.name.length + (c.args ?? []).join(' ').length + 1)) + 2;
  const lines = [`Usage: gatehouse ${group.name} <command> [options]`, '', group.summary, '', 'Commands:'];
  for (const command of group.commands) {
    lines.push(`  ${`${command.name}${(command.args ?? []).map((a) => ` ${a}`).join('')}`.padEnd(width)}${command.summary}`);
  }
  lines.push('', `gatehouse ${group.name} <command> --help lists the options of each.`);
  return `${lines.join('\n')}\n`;
}

/** The closest of `candidates` to `input`, when close enough to be a likely typo. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const swap = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + swap);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function unknownHint(kind: 'command' | 'option', given: string, candidates: readonly string[], helpCommand: string): UsageError {
  const suggestion = closest(given, candidates);
  return new UsageError(`unknown ${kind} "${given}".${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, helpCommand);
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      process.stderr.write('(reading from stdin; end with Ctrl-D)\n');
    }
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
    });
    process.stdin.once('end', () => resolve(text));
    process.stdin.once('error', reject);
  });
}

/** Runs `gatehouse <group> ...argv`. */
export async function runGroup(group: CommandGroup, argv: string[]): Promise<void> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === undefined) throw new UsageError(`missing command for "${group.name}"`, `gatehouse ${group.name} --help`);
    process.stdout.write(groupHelp(group));
    return;
  }
  const names = group.commands.map((c) => c.name);
  const command =
    (second !== undefined ? group.commands.find((c) => c.name === `${first} ${second}`) : undefined) ??
    group.commands.find((c) => c.name === first);
  if (!command) {
    const given = second !== undefined && names.some((n) => n.startsWith(`${first} `)) ? `${first} ${second}` : first;
    throw unknownHint('command', `${group.name} ${given}`, names.map((n) => `${group.name} ${n}`), `gatehouse ${group.name} --help`);
  }
  const rest = argv.slice(command.name.split(' ').length);
  const helpCommand = `gatehouse ${group.name} ${command.name} --help`;
  if (command.remote !== false) {
    const flag = rest.find((arg) => ADMIN_KEY_FLAGS.some((f) => arg === f || arg.startsWith(`${f}=`)));
    if (flag) {
      throw new UsageError(
        `${flag.split('=')[0]} is refused: a key given as a flag lands in shell history; set GATEHOUSE_ADMIN_KEY in the environment instead`,
        helpCommand,
      );
    }
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(group, command));
    return;
  }
  const specs = optionsOf(command);
  let parsed: { values: Record<string, any>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, multiple: spec.multiple ?? false }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const message = (error as Error).message;
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const given = message.match(/'(-[^']*)'/)?.[1] ?? message;
      throw unknownHint('option', given, Object.keys(specs).map((n) => `--${n}`), helpCommand);
    }
    throw new UsageError(message.split('. ')[0]!.replace(/\.$/, ''), helpCommand);
  }
  const expected = command.args ?? [];
  if (parsed.positionals.length !== expected.length) {
    const extra = parsed.positionals.slice(expected.length)[0];
    throw new UsageError(
      extra !== undefined
        ? `unexpected argument "${extra}" for "${group.name} ${command.name}"`
        : `"${group.name} ${command.name}" needs ${expected.slice(parsed.positionals.length).join(' ')}`,
      helpCommand,
    );
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && parsed.values[name] === undefined) throw new UsageError(`"${group.name} ${command.name}" needs --${name}`, helpCommand);
  }
  await command.run({
    args: parsed.positionals,
    options: parsed.values,
    json: parsed.values.json === true,
    api: createAdminApi(serverUrl(parsed.values.server), process.env.GATEHOUSE_ADMIN_KEY?.trim() || undefined),
    readStdin,
  });
}
