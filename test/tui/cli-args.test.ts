import { describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import { parseCommandLine } from '../../tui/console/cli-args.js';

describe('etl-console command line', () => {
  it('parses every option', () => {
    expect(parseCommandLine(['--home', '/srv/etld', '--readonly'], {})).toEqual({
      kind: 'run',
      args: {
        home: '/srv/etld',
        socket: undefined,
        url: undefined,
        tokenFile: undefined,
        readonly: true,
        color: true,
      },
    });
    expect(
      parseCommandLine(['--url=ws://127.0.0.1:7070', '--token-file', '/etc/etld/token'], {}),
    ).toMatchObject({
      kind: 'run',
      args: { url: 'ws://127.0.0.1:7070', tokenFile: '/etc/etld/token', readonly: false },
    });
    expect(parseCommandLine(['--socket', '/run/x.sock'], {})).toMatchObject({
      args: { socket: '/run/x.sock' },
    });
    expect(parseCommandLine(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-V'], {})).toEqual({ kind: 'version' });
  });

  it('turns colour off for --no-color and a non-empty NO_COLOR only', () => {
    const color = (argv: string[], env: Record<string, string>) => {
      const parsed = parseCommandLine(argv, env);
      return parsed.kind === 'run' ? parsed.args.color : null;
    };
    expect(color([], {})).toBe(true);
    expect(color(['--no-color'], {})).toBe(false);
    expect(color([], { NO_COLOR: '1' })).toBe(false);
    expect(color([], { NO_COLOR: '' })).toBe(true);
  });

  it('rejects unknown options, stray arguments, empty values and a token without a URL', () => {
    const usage = (argv: string[]) => {
      try {
        parseCommandLine(argv, {});
      } catch (error) {
        return error instanceof EtlError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(usage(['--frobnicate'])).toMatch(/^USAGE: .*--frobnicate/);
    expect(usage(['orders'])).toMatch(/^USAGE: .*orders/);
    expect(usage(['--home'])).toMatch(/^USAGE: .*--home/);
    expect(usage(['--home', ' '])).toBe('USAGE: --home needs a non-empty value');
    expect(usage(['--token-file', '/t'])).toBe('USAGE: --token-file is only used with --url');
  });
});
