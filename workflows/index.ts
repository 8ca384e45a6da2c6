// The one file a worker loads: every workflow is re-exported here.
export { experiment } from './experiment.ts';
export { sweep } from './sweep.ts';
export { promptSearch } from './prompt-search.ts';
export { challenge, challengeTeam } from './challenge.ts';
