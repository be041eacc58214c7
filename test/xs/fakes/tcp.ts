import { FakeTCP } from './fake-io';
export default FakeTCP;
