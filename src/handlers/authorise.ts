import { type Access, channelAllowed } from '../config/recovery-config.js';
import type { CommandAccessFlags } from './command-help.js';

// Who may do what, checked before anything slow happens. The engine checks again when the command is applied
// (it knows who started the run, which the two-person rule needs); these checks give the early, specific answer.

function listed(list: readonly string[] | null, userId: string): boolean {
  return list === null || list.includes(userId);
}

export function isOperator(access: Access, userId: string): boolean {
  return listed(access.operators, userId);
}

export function isApprover(access: Access, userId: string): boolean {
  return listed(access.approvers, userId);
}

export function accessFlags(access: Access, userId: string): CommandAccessFlags {
  return { isOperator: isOperator(access, userId), isApprover: isApprover(access, userId) };
}

export function isChannelAllowed(access: Access, channelId: string): boolean {
  return channelAllowed(access, channelId);
}

/** `<#C1>, <#C2>`: the channels commands are taken in. */
export function allowedChannelsText(access: Access): string {
  return access.channels.map((c) => `<#${c}>`).join(', ');
}
