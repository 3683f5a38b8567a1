import { jestProject } from '../../jest.preset.mjs';

export default jestProject('config-manager-lib');
