// How approval requests reach linked devices. The shipped transport publishes on the store's
// pub/sub (Redis across nodes, in-process on the embedded default); the device holds a Server-Sent
// Events connection to /1/devices/events on any node, which relays what is published for it. An
// APNs or FCM transport implements the same interface: it would send a wake-up push and the app
// would fetch /1/devices/challenges.
import type { Store } from '../store/store.ts';

export interface PublicChallenge {
  id: string;
  app: string;
  browser: string;
  ip: string;
  place: string;
  created_at: string;
  expires_at: string;
}

export type DeviceEvent =
  { type: 'challenge'; challenge: PublicChallenge } | { type: 'decided'; id: string } | { type: 'removed' };

export interface PushTransport {
  deliver(deviceId: string, event: DeviceEvent): Promise<void>;
}

export const deviceChannel = (deviceId: string) => `device-events:${deviceId}`;

export function createStorePushTransport(store: Store): PushTransport {
  return {
    async deliver(deviceId, event) {
      await store.publish(deviceChannel(deviceId), JSON.stringify(event));
    },
  };
}
