// The engine tests walk scenarios against the shared fake DecisionGraph (the engine bench imports it from here).
export { World } from '../../helpers/engine-world.js';
