import { FakeListener } from './fake-io';
export default FakeListener;
