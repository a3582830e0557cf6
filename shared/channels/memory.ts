import type { EmailSender, OutgoingEmail } from './email.js';

/** The email sender in memory: keeps what it sent, fails as told (unit tests, benchmarks). */
export class MemoryEmailSender implements EmailSender {
  readonly sent: OutgoingEmail[] = [];
  /** Errors the next sends throw, first in first out (e.g. `new EmailSendError('Throttling', true)`). */
  readonly failures: Error[] = [];

  async send(email: OutgoingEmail): Promise<{ providerMessageId: string }> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push(email);
    return { providerMessageId: `ses-${this.sent.length}` };
  }
}
