import { UnknownScenarioError } from '../errors.js';
import { parseScenario, SCENARIO_NAMES, type Scenario, type ScenarioName } from '../scenario-schema.js';
import { eventLogScenario } from './event-log.js';
import { postgresScenario } from './postgres.js';
import { projectionsScenario } from './projections.js';
import { restartScenario } from './restart.js';
import { upgradeScenario } from './upgrade.js';

/** The scenario data as written, before validation. */
export const SCENARIO_DATA = [
  restartScenario,
  postgresScenario,
  projectionsScenario,
  eventLogScenario,
  upgradeScenario,
];

let loaded: ReadonlyMap<ScenarioName, Scenario> | undefined;

/** Validates every scenario once (zod plus cross-checks); a mistake in the data fails here with its step named. */
export function loadScenarios(): ReadonlyMap<ScenarioName, Scenario> {
  if (loaded === undefined) {
    const map = new Map<ScenarioName, Scenario>();
    for (const data of SCENARIO_DATA) {
      const scenario = parseScenario(data);
      map.set(scenario.name, scenario);
    }
    const seen = new Map<string, string>();
    for (const s of map.values()) {
      for (const name of [s.name, ...s.aliases]) {
        const other = seen.get(name);
        if (other !== undefined) throw new Error(`scenario name or alias ${name} used by ${other} and ${s.name}`);
        seen.set(name, s.name);
      }
    }
    loaded = map;
  }
  return loaded;
}

export function getScenario(name: ScenarioName): Scenario {
  const scenario = loadScenarios().get(name);
  if (scenario === undefined) throw new UnknownScenarioError(name, SCENARIO_NAMES);
  return scenario;
}

/** Finds a scenario by name or alias, ignoring case, spaces and `_` for `-`; `undefined` when nothing matches. */
export function findScenario(input: string): Scenario | undefined {
  const wanted = input.trim().toLowerCase().replaceAll('_', '-');
  for (const s of loadScenarios().values()) {
    if (s.name === wanted || s.aliases.includes(wanted)) return s;
  }
  return undefined;
}

/** Like {@link findScenario}, but throws {@link UnknownScenarioError} listing the names and aliases. */
export function resolveScenario(input: string): Scenario {
  const found = findScenario(input);
  if (found === undefined) throw new UnknownScenarioError(input, scenarioChoices());
  return found;
}

/** `restart (node-restart, node, reboot)`, … for help texts and refusals. */
export function scenarioChoices(): string[] {
  return [...loadScenarios().values()].map((s) => `${s.name} (${s.aliases.join(', ')})`);
}
