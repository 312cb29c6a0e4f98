import { useEffect, useState } from 'react';

/** The current time, refreshed every `intervalMs`, so relative times ("in 37 min") stay true. */
export function useClock(clock: () => number, intervalMs: number): number {
  const [now, setNow] = useState(clock);
  useEffect(() => {
    const timer = setInterval(() => setNow(clock()), intervalMs);
    return () => clearInterval(timer);
  }, [clock, intervalMs]);
  return now;
}
