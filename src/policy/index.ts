/** The gateway's rules, in the order a request meets them. */
import type { Rule } from './rule.ts';
import { ipAllow } from './rules/ip-allow.ts';
import { requiredScope } from './rules/required-scope.ts';
import { resourceAccess } from './rules/resource-access.ts';
import { stepUp } from './rules/step-up.ts';
import { timeWindow } from './rules/time-window.ts';
import { toolReviewed } from './rules/tool-review.ts';

export const GATEWAY_RULES: readonly Rule[] = [ipAllow, timeWindow, toolReviewed, requiredScope, stepUp, resourceAccess];

export { evaluate, type Caller, type CallTarget, type Decision, type PolicyInput, type Rule } from './rule.ts';
