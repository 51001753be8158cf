// `sesame device …`: the reference kAuth device on the command line. Its key and seed live in a
// local file (--file, default ./sesame-device.json, mode 600). JSON on stdout.
import { parseArgs } from 'node:util';
import { DeviceClient, DeviceApiError } from '../kauth/device-client.ts';

export const DEVICE_USAGE = `  device link <enrolment-url> [--name N]  link this reference device (URL from the Security page's QR code)
  device whoami                           the account and name this device is linked as
  device pending                          open approval requests (without the number: read it on the sign-in page)
  device approve <id> --number N          say YES, with the number shown on the sign-in page
  device deny <id> [--not-me]             say NO; --not-me also warns the account's owner by email
  device code                             the current offline code
  device watch                            print requests as they arrive (Server-Sent Events)
                                          every device command takes [--file F] (default ./sesame-device.json)
`;

export async function deviceCli(
  args: string[],
  out: (v: unknown) => void,
  usage: (msg: string) => Error,
  stderr: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      file: { type: 'string', default: process.env.SESAME_DEVICE_FILE ?? 'sesame-device.json' },
      name: { type: 'string' },
      number: { type: 'string' },
      'not-me': { type: 'boolean' },
    },
  });
  const [sub, arg] = positionals;
  const file = values.file ?? 'sesame-device.json';
  try {
    if (sub === 'link') {
      if (!arg) throw usage('device link needs the enrolment URL');
      const device = await DeviceClient.link(arg, values.name ?? `Reference device (${process.platform})`);
      device.save(file);
      out({ device_id: device.state.deviceId, name: device.state.name, account: device.state.account, file });
      return 0;
    }
    const device = (() => {
      try {
        return DeviceClient.load(file);
      } catch {
        throw usage(`no linked device in ${file}: run "sesame device link <url>" first`);
      }
    })();
    if (sub === 'whoami') {
      out(await device.me());
      return 0;
    }
    if (sub === 'pending') {
      out({ challenges: await device.pending() });
      return 0;
    }
    if (sub === 'approve') {
      const n = Number(values.number);
      if (!arg || !values.number || !Number.isInteger(n))
        throw usage('device approve needs <id> and --number N (the number on the sign-in page)');
      out(await device.approve(arg, n));
      return 0;
    }
    if (sub === 'deny') {
      if (!arg) throw usage('device deny needs <id>');
      out(await device.deny(arg, values['not-me'] ?? false));
      return 0;
    }
    if (sub === 'code') {
      out({ code: device.code(), period: device.state.totp.period });
      return 0;
    }
    if (sub === 'watch') {
      await device.watch((event, data) => out({ event, data }));
      return 0;
    }
    throw usage(`unknown device command: ${sub ?? ''}`);
  } catch (err) {
    if (err instanceof DeviceApiError) {
      stderr(JSON.stringify({ status: err.status, ...err.body }) + '\n');
      return 1;
    }
    throw err;
  }
}
