import type { OverviewService } from '../overview/service.ts';
import type { Handlers } from './types.ts';

export function overviewHandlers(service: OverviewService): Handlers<'overview.get' | 'overview.ack'> {
  return {
    'overview.get': () => service.get(),
    'overview.ack': ({ at }) => service.ack(at),
  };
}
