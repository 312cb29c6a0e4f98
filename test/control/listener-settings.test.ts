import { describe, expect, it } from 'vitest';
import { daemonSettingsSchema } from '../../shared/config/daemon-schema.js';
import { controlListeners, groupId } from '../../daemon/control/listener-settings.js';

const GROUPS = 'root:x:0:\netl:x:990:etld\netl-view:x:991:alice,bob\n';

function listeners(control: unknown, env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return controlListeners({
    control: daemonSettingsSchema.parse({ control }).control,
    socketPath: '/run/etld/etld.sock',
    settingsDir: '/etc/etld',
    secrets: {
      env,
      credentialsDirectory: '/run/credentials/etld.service',
      readFile: (path) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        return text;
      },
    },
    groupFile: () => GROUPS,
  });
}

describe('control listeners from etld.yaml', () => {
  it('the read-only socket is off unless configured; {} puts etld-ro.sock beside the operator socket', () => {
    expect(listeners({}).readOnlySocket).toBeUndefined();
    expect(listeners({ readonly_socket: {} }).readOnlySocket).toEqual({
      path: '/run/etld/etld-ro.sock',
      mode: 0o660,
    });
    expect(
      listeners({ readonly_socket: { path: 'ro/watch.sock', mode: '0666', group: 'etl-view' } })
        .readOnlySocket,
    ).toEqual({ path: '/etc/etld/ro/watch.sock', mode: 0o666, gid: 991 });
  });

  it('a group is a name from /etc/group or a number; an unknown name stops start-up', () => {
    expect(groupId(42, () => GROUPS)).toBe(42);
    expect(groupId('etl', () => GROUPS)).toBe(990);
    expect(() => groupId('nobody-here', () => GROUPS)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('nobody-here') }),
    );
  });

  it('the read-only token comes from the environment or a file (relative under $CREDENTIALS_DIRECTORY)', () => {
    expect(listeners({ tcp: { readonly_token_env: 'RO' } }, { RO: ' ro-secret\n' }).tcp).toEqual({
      host: '127.0.0.1',
      port: 7070,
      token: null,
      readOnlyToken: 'ro-secret',
    });
    expect(
      listeners(
        { tcp: { readonly_token_file: 'ro.token' } },
        {},
        { '/run/credentials/etld.service/ro.token': 'file-secret\n' },
      ).tcp?.readOnlyToken,
    ).toBe('file-secret');
    let message = '';
    try {
      listeners({ tcp: { readonly_token_env: 'MISSING' } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      "control.tcp: environment variable MISSING (readonly_token_env) is not set in the daemon's environment",
    );
  });

  it('the operator token comes from the environment or a file as well; both at once, or none, is refused', () => {
    expect(listeners({ tcp: { token_env: 'OP' } }, { OP: 'op-secret\n' }).tcp).toEqual({
      host: '127.0.0.1',
      port: 7070,
      token: 'op-secret',
      readOnlyToken: null,
    });
    expect(
      listeners(
        { tcp: { token_file: 'op.token', readonly_token_env: 'RO' } },
        { RO: 'ro' },
        { '/run/credentials/etld.service/op.token': 'file-op\n' },
      ).tcp,
    ).toMatchObject({ token: 'file-op', readOnlyToken: 'ro' });
    expect(() => listeners({ tcp: { token_env: 'OP' } }, { OP: '  ' })).toThrow(
      'control.tcp: the operator token is empty',
    );
    expect(() => listeners({ tcp: { token_env: 'OP', token_file: '/x' } })).toThrow(/not both/);
    expect(() => listeners({ tcp: { token: 'inline' } })).toThrow(/never written in etld.yaml/);
  });
});
