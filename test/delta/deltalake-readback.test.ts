/** Conformance: every table etld writes reads back identically in delta-rs (Python `deltalake`). */
import { runReadbackConformance } from './readback.case.js';

runReadbackConformance('delta-rs reads what etld writes', 'deltalake');
