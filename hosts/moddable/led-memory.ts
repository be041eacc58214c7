// Memory probe for the LED app in the Moddable simulator (hosts/moddable/led-memory/
// manifest.json: the app with the m5atom_lite heap sizes). Starts the app (led-main),
// then once a second, after a full garbage collection, traces
//   MEM ws=<clients> http=<connections> chunk=<bytes> slot=<bytes> stack=<bytes> ...
// so a driver can read the steady state for any number of connected clients.
import Debug from 'debug';
import Instrumentation from 'instrumentation';
import Timer from 'timer';
import { ws, http } from './led-main';

const CHUNK = Instrumentation.map('XS Chunk Heap Used');
const SLOT = Instrumentation.map('XS Slot Heap Used');
const STACK = Instrumentation.map('XS Stack Used');
const KEYS = Instrumentation.map('XS Keys Used');
const MODULES = Instrumentation.map('XS Modules Loaded');
const SOCKETS = Instrumentation.map('Network Sockets');
const TIMERS = Instrumentation.map('Timers');

function report(): void {
  Debug.gc();
  trace(
    `MEM ws=${ws.clientsCount} http=${http.connectionsCount} chunk=${Instrumentation.get(CHUNK)} slot=${Instrumentation.get(SLOT)}` +
      ` stack=${Instrumentation.get(STACK)} keys=${Instrumentation.get(KEYS)} modules=${Instrumentation.get(MODULES)}` +
      ` sockets=${Instrumentation.get(SOCKETS)} timers=${Instrumentation.get(TIMERS)}\n`,
  );
}

report();
Timer.repeat(report, 1000);
