import type { ScheduleService } from '../schedules/service.ts';
import type { Handlers } from './types.ts';

type ScheduleNames = 'schedules.list' | 'schedules.add' | 'schedules.remove' | 'schedules.runNow' | 'schedules.notify';

export function scheduleHandlers(schedules: ScheduleService): Handlers<ScheduleNames> {
  return {
    'schedules.list': () => schedules.list(),
    'schedules.add': ({ schedule, replace }) => schedules.add(schedule, replace),
    'schedules.remove': async ({ name }) => {
      await schedules.remove(name);
      return { removed: name };
    },
    'schedules.runNow': ({ name, wait }) => schedules.runNow(name, wait),
    'schedules.notify': async ({ notify }) => {
      await schedules.setNotify(notify);
      return { notify };
    },
  };
}
