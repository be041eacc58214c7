import { FakeTimerModule } from './fake-io';
export default FakeTimerModule;
