import type { Role, RoleBinding } from '@llmops/platform-auth';
import { DAY_NAMES, type DayName } from './role-binding-requests.js';

/** A binding as the API shows it; the shape `PUT …/role-bindings` accepts. */
export interface RoleBindingView {
  role: Role;
  environments?: string[];
  tenant_id?: string;
  conditions?: {
    time_window?: { days?: DayName[]; start: string; end: string; timezone: string };
    source_ips?: string[];
  };
}

export function viewOfBinding(binding: RoleBinding): RoleBindingView {
  const view: RoleBindingView = { role: binding.role };
  if (binding.environments) view.environments = binding.environments;
  if (binding.tenantId !== undefined) view.tenant_id = binding.tenantId;
  const { timeWindow, ipAllowlist } = binding.conditions ?? {};
  if (timeWindow || ipAllowlist) {
    view.conditions = {};
    if (timeWindow) {
      view.conditions.time_window = {
        ...(timeWindow.days ? { days: timeWindow.days.map((day) => DAY_NAMES[day]!) } : {}),
        start: clockTime(timeWindow.startHour, timeWindow.startMinute),
        end: clockTime(timeWindow.endHour, timeWindow.endMinute),
        timezone: timeWindow.timezone ?? 'UTC',
      };
    }
    if (ipAllowlist) view.conditions.source_ips = ipAllowlist;
  }
  return view;
}

function clockTime(hour: number, minute = 0): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}
