// What both implementations' message handlers hand their bytes to, the same code for
// both: counts messages and bytes and checks every message, cheaply enough to stay in
// the timed loop (a handful of operations per message): its length, its sequence number
// (bytes 0-3: messages arrive in order, none lost or repeated) and its last byte
// (tailByte: it ends where it should). In the verification pass `full` is set and
// every byte also goes through Adler-32, which the runner compares with its own.
// message(): a whole message (our client and server, the SDK's server); piece(): part of
// one, `last` on its final piece (the SDK's client reports frames as they arrive).
// An empty message is the end-of-batch marker of the real-socket run (`marker`).
import { tailByte } from "bench/frames";

export class Sink {
	constructor(size) {
		this.size = size;
		this.full = false;
		this.marker = null;
		this.reset();
	}
	reset() {
		this.messages = 0;
		this.bytes = 0;
		this.errors = 0;
		this.next = 0;
		this.got = 0;
		this.sequence = 0;
		this.tail = 0;
		this.a = 1;
		this.b = 0;
	}
	/** A pass starts over at message 0. */
	startPass() {
		this.next = 0;
	}
	get adler() {
		return ((this.b << 16) | this.a) >>> 0;
	}
	message(data, start, end) {
		const length = end - start;
		if (!length && this.marker) {
			this.marker();
			return;
		}
		if ((length !== this.size) || (length < 5))
			this.errors++;
		else {
			const n = data[start] | (data[start + 1] << 8) | (data[start + 2] << 16) | (data[start + 3] << 24);
			if ((n !== this.next) || (data[end - 1] !== tailByte(n)))
				this.errors++;
		}
		if (this.full)
			this.sum(data, start, end);
		this.next++;
		this.messages++;
		this.bytes += length;
	}
	piece(data, start, end, last) {
		let got = this.got;
		if (last && !got && (end === start) && this.marker) {
			this.marker();
			return;
		}
		let i = start;
		while ((got < 4) && (i < end))
			this.sequence |= data[i++] << (8 * got++);
		got += end - i;
		if (end > start)
			this.tail = data[end - 1];
		if (this.full)
			this.sum(data, start, end);
		this.bytes += end - start;
		if (last) {
			const n = this.sequence;
			if ((got !== this.size) || (n !== this.next) || (this.tail !== tailByte(n)))
				this.errors++;
			this.next++;
			this.messages++;
			this.got = 0;
			this.sequence = 0;
		}
		else
			this.got = got;
	}
	sum(data, start, end) {
		let a = this.a;
		let b = this.b;
		for (let i = start; i < end; i++) {
			a += data[i];
			if (a >= 65521)
				a -= 65521;
			b += a;
			if (b >= 65521)
				b -= 65521;
		}
		this.a = a;
		this.b = b;
	}
}
