package record

// rdtsc and rdtscp execute the instructions in the recorder on behalf of a
// tracee that trapped on them (PR_TSC_SIGSEGV); the values go into the trace.
func rdtsc() (lo, hi uint32)
func rdtscp() (lo, hi, aux uint32)
