import { waitForIdle } from '../journeys/support.js';

/** Waits until the stack has done everything (a loaded machine may need minutes for 400 customers). */
export async function settle(httpUrl: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await waitForIdle(httpUrl);
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}
