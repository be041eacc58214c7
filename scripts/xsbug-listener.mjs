// A minimal xsbug-protocol listener: a debug (-d) Moddable build sends trace() output
// only to a connected debugger, and blocks after login until the debugger answers.
// This hands the traces (and breaks: exceptions) to a callback and keeps the machine running. Our own code,
// written from the observed wire protocol (<xsbug><login/>, <log>, <break>).
import net from 'node:net';

/** Listen on 127.0.0.1:port; calls onLine for each trace line. Resolves to the server. */
export function startXsbugListener(port, onText) {
  const decode = (s) =>
    s
      .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('</xsbug>')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 8);
        if (/<login /.test(message)) socket.write('\r\n<set-all-breakpoints></set-all-breakpoints>\r\n');
        for (const m of message.matchAll(/<(log|break)(?: path="([^"]*)" line="(\d+)")?>([\s\S]*?)<\/\1>/g)) {
          onText(m[2] ? `${m[2]}:${m[3]}: ${decode(m[4])}` : decode(m[4]));
        }
        if (/<break[ >]/.test(message)) socket.write('\r\n<go/>\r\n');
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
